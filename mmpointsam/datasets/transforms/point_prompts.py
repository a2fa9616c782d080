"""Point prompts sampled from instance masks, the papers' protocol for point supervision."""

import os.path as osp
import zlib
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmpointsam.registry import TRANSFORMS

from .point_frame import stamp_points_frame


def _mask_array(masks) -> np.ndarray:
    """The (N, H, W) array of BitmapMasks or of an array-like."""
    return masks.masks if hasattr(masks, 'masks') else np.asarray(masks)


@TRANSFORMS.register_module()
class SamplePointPrompts(BaseTransform):
    """Sample ``num_points`` positive points inside each instance mask and ``num_neg_points``
    negative points outside it (pixel centres, xy in the image's pixel coordinates).

    Adds ``gt_points`` (N, P, 2) float32 and ``gt_point_labels`` (N, P) int64 (1 positive, 0
    negative), positives first. With ``max_instances`` a random subset of instances is kept (a
    memory cap for training on crowded images); all instance-aligned keys are subset together.

    With ``seed`` set, sampling depends only on the seed and the image's file name, so every
    evaluation of any model prompts with the same points, wherever the dataset lies (a checkout,
    a cluster's scratch disk); without it, prompts change every time (training).

    Args:
        num_points: positive points per instance (1, 2 or 3 in the papers).
        num_neg_points: negative points per instance; defaults to ``num_points``.
        max_instances: keep at most this many instances (None keeps all).
        seed: seed for deterministic (evaluation) prompts.
    """

    _INSTANCE_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_masks', 'gt_ignore_flags')

    def __init__(
        self,
        num_points: int = 1,
        num_neg_points: Optional[int] = None,
        max_instances: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> None:
        if num_points < 1:
            raise ValueError(f'num_points must be >= 1, got {num_points}')
        self.num_points = num_points
        self.num_neg_points = num_points if num_neg_points is None else num_neg_points
        if self.num_neg_points < 0:
            raise ValueError(f'num_neg_points must be >= 0, got {self.num_neg_points}')
        self.max_instances = max_instances
        self.seed = seed

    def _rng(self, results: dict) -> np.random.Generator:
        """A generator per image when seeded (fixed evaluation prompts), else a fresh one."""
        if self.seed is None:
            return np.random.default_rng()
        # the file name, not the path: the same image gets the same clicks in any folder
        img_path = results.get('img_path')
        key = osp.basename(str(img_path)) if img_path else str(results.get('img_id', ''))
        return np.random.default_rng([self.seed, zlib.crc32(key.encode())])

    def transform(self, results: dict) -> dict:
        """Sample the positive and negative point prompts of every instance from its mask."""
        masks = _mask_array(results['gt_masks'])
        rng = self._rng(results)
        num = masks.shape[0]
        if self.max_instances is not None and num > self.max_instances:
            keep = np.sort(rng.choice(num, self.max_instances, replace=False))
            for key in self._INSTANCE_KEYS:
                if key in results:
                    results[key] = results[key][keep]
            masks = _mask_array(results['gt_masks'])
            num = len(keep)

        pos_n, neg_n = self.num_points, self.num_neg_points
        points = np.zeros((num, pos_n + neg_n, 2), dtype=np.float32)
        labels = np.zeros((num, pos_n + neg_n), dtype=np.int64)
        labels[:, :pos_n] = 1
        for i in range(num):
            mask = masks[i].astype(bool)
            inside = np.flatnonzero(mask)
            if inside.size == 0:
                raise ValueError(
                    f'{results.get("img_path", "an image")}: instance {i} has an empty mask '
                    '(its polygon covers no pixel centre); no positive point can be sampled'
                )
            picked = rng.choice(inside, pos_n, replace=inside.size < pos_n)
            points[i, :pos_n] = self._to_xy(picked, mask.shape[1])
            if neg_n:
                outside = np.flatnonzero(~mask)
                if outside.size == 0:
                    raise ValueError(
                        f'{results.get("img_path", "an image")}: instance {i} covers '
                        'the whole image; no negative point can be sampled'
                    )
                picked = rng.choice(outside, neg_n, replace=outside.size < neg_n)
                points[i, pos_n:] = self._to_xy(picked, mask.shape[1])
        results['gt_points'] = points
        results['gt_point_labels'] = labels
        stamp_points_frame(results)
        return results

    @staticmethod
    def _to_xy(flat_idx: np.ndarray, width: int) -> np.ndarray:
        """Flat pixel indices of a (H, W) grid as (x, y) = (column, row) points."""
        # SAM's prompt encoder adds 0.5 itself, so pixel (r, c) is passed as (c, r)
        return np.stack([flat_idx % width, flat_idx // width], axis=-1).astype(np.float32)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(num_points={self.num_points}, '
            f'num_neg_points={self.num_neg_points}, max_instances={self.max_instances}, '
            f'seed={self.seed})'
        )
