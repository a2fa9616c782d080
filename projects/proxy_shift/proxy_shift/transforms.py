"""The proxy benchmark's one transform of its own: point prompts whose count is drawn per image,
so stage 1 learns to answer 1-, 2- and 3-point prompts alike. Registered into mmpointsam's
TRANSFORMS only when a proxy config imports this project (``custom_imports``)."""

from typing import Sequence

import numpy as np

from mmpointsam.datasets.transforms import SamplePointPrompts
from mmpointsam.registry import TRANSFORMS

__all__ = ['RandomNumPointPrompts']


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
