"""Training data of the proxy domain-shift benchmark.

Point-label rows train on ``PointLabelDataset`` (with ``forbidden_keys=('segmentation', 'bbox',
'area')``, so they cannot see a mask even by accident) and ``RandomFlipPoints``, the package's
own (:mod:`mmpointsam.datasets`), re-exported here. ``RandomNumPointPrompts`` samples 1..3 point
prompts per image from masks (stage 1 learns to answer both 1- and 3-point prompts).
"""

from typing import Sequence

import numpy as np

from mmpointsam.datasets import PointLabelDataset
from mmpointsam.datasets.transforms import LoadPointLabels, RandomFlipPoints, SamplePointPrompts
from mmpointsam.registry import TRANSFORMS

__all__ = ['PointLabelDataset', 'LoadPointLabels', 'RandomFlipPoints', 'RandomNumPointPrompts']


@TRANSFORMS.register_module()
class RandomNumPointPrompts(SamplePointPrompts):
    """``SamplePointPrompts`` with the point count drawn from ``choices`` for each image (as many
    negative points as positive ones)."""

    def __init__(self, choices: Sequence[int] = (1, 2, 3), **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def transform(self, results: dict) -> dict:
        self.num_points = self.num_neg_points = int(np.random.choice(self.choices))
        return super().transform(results)
