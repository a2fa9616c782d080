"""Point prompts read from annotations (``PointLabelDataset``) rather than sampled from masks."""

import zlib
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmpointsam.registry import TRANSFORMS

from .point_frame import stamp_points_frame

NEGATIVE_SOURCES = ('other_instances', 'background')


@TRANSFORMS.register_module()
class LoadPointLabels(BaseTransform):
    """Turn ``instances`` (``points``, ``point_labels``, ``bbox_label``, ``ann_id``) into
    ``gt_points`` (N, P, 2) float32, ``gt_point_labels`` (N, P) int64 (padded with -1),
    ``gt_bboxes_labels`` (N,) and ``instance_ids`` (N,), the annotation ids (pack them with
    ``PackSAMInputs(meta_keys=(..., 'instance_ids'))`` to keep them with the predictions).

    Negatives for files of positive clicks only (appended after each instance's own points):

    - ``'other_instances'``: positive clicks of the image's other instances. Such a point lies
      on another object, so it is outside this one unless the two overlap; these negatives sit
      on objects, harder than the papers' negatives drawn uniformly outside the mask.
    - ``'background'``: the image's ``background_points`` (clicks on no object), if the file
      has them.

    Args:
        negatives: None (only the file's own labels), a source or a sequence of sources.
        num_neg_points: negatives added per instance (fewer when the sources have fewer points;
            the rest is padding). The papers' 1-point protocol prompts with 1 positive and 1
            negative, so 1 matches its prompt shape.
        max_instances: keep a random subset of at most this many instances (a memory cap;
            negatives are still drawn from all of the image's clicks).
        seed: seed for deterministic negatives and subsets (depends on the image path only);
            None draws from numpy's global generator (seeded by MMEngine's ``randomness``).
    """

    def __init__(
        self,
        negatives: Union[None, str, Sequence[str]] = None,
        num_neg_points: int = 1,
        max_instances: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> None:
        if isinstance(negatives, str):
            negatives = (negatives,)
        negatives = tuple(negatives or ())
        unknown = [n for n in negatives if n not in NEGATIVE_SOURCES]
        if unknown:
            raise ValueError(f'unknown negative sources {unknown}; choose from {NEGATIVE_SOURCES}')
        if num_neg_points < 0:
            raise ValueError(f'num_neg_points must be >= 0, got {num_neg_points}')
        self.negatives = negatives
        self.num_neg_points = num_neg_points
        self.max_instances = max_instances
        self.seed = seed

    def _rng(self, results: dict) -> np.random.Generator:
        """A generator per image when seeded (the same negatives every epoch), else a fresh one."""
        if self.seed is None:
            return np.random.default_rng(np.random.randint(2**31))
        key = str(results.get('img_path', results.get('img_id', '')))
        return np.random.default_rng([self.seed, zlib.crc32(key.encode())])

    def _negatives(self, results: dict, instances: list, rng: np.random.Generator) -> list:
        """Per instance, an array (K, 2) of negative points drawn from the sources."""
        positives = [
            np.asarray(inst['points'], np.float32).reshape(-1, 2)[
                np.asarray(inst.get('point_labels', [1] * len(inst['points']))) == 1
            ]
            for inst in instances
        ]
        background = (
            np.asarray(results.get('background_points', []), np.float32).reshape(-1, 2)
            if 'background' in self.negatives
            else np.zeros((0, 2), np.float32)
        )
        out = []
        for i in range(len(instances)):
            pools = [background]
            if 'other_instances' in self.negatives:
                pools += [p for j, p in enumerate(positives) if j != i]
            pool = np.concatenate(pools)
            k = min(self.num_neg_points, len(pool))
            out.append(pool[np.sort(rng.choice(len(pool), k, replace=False))] if k else pool[:0])
        return out

    def transform(self, results: dict) -> dict:
        """The image's clicks as padded point prompts, with negatives and the instance cap."""
        instances = results.get('instances', [])
        rng = self._rng(results) if (self.negatives or self.max_instances) else None
        negatives = self._negatives(results, instances, rng) if self.negatives else None
        if self.max_instances is not None and len(instances) > self.max_instances:
            keep = np.sort(rng.choice(len(instances), self.max_instances, replace=False))
            instances = [instances[i] for i in keep]
            negatives = [negatives[i] for i in keep] if negatives is not None else None
        num = len(instances)
        own = [np.asarray(inst['points'], dtype=np.float32).reshape(-1, 2) for inst in instances]
        extra = [len(n) for n in negatives] if negatives is not None else [0] * num
        width = max((len(p) + e for p, e in zip(own, extra)), default=1)
        points = np.zeros((num, width, 2), dtype=np.float32)
        labels = np.full((num, width), -1, dtype=np.int64)
        for i, (inst, pts) in enumerate(zip(instances, own)):
            points[i, : len(pts)] = pts
            labels[i, : len(pts)] = inst.get('point_labels', [1] * len(pts))
            if extra[i]:
                points[i, len(pts) : len(pts) + extra[i]] = negatives[i]
                labels[i, len(pts) : len(pts) + extra[i]] = 0
        results['gt_points'] = points
        results['gt_point_labels'] = labels
        results['gt_bboxes_labels'] = np.array(
            [inst['bbox_label'] for inst in instances], dtype=np.int64
        )
        results['instance_ids'] = np.array(
            [inst.get('ann_id', -1) for inst in instances], dtype=np.int64
        )
        stamp_points_frame(results, original=True)  # the file's clicks: the loaded image
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(negatives={self.negatives}, num_neg_points='
            f'{self.num_neg_points}, max_instances={self.max_instances}, seed={self.seed})'
        )
