"""A flip that moves point prompts with the image (mmdet's ``RandomFlip`` does not)."""

import numpy as np
from mmdet.datasets.transforms import RandomFlip

from mmpointsam.registry import TRANSFORMS

from .point_frame import check_points_frame, stamp_points_frame


@TRANSFORMS.register_module()
class RandomFlipPoints(RandomFlip):
    """mmdet's ``RandomFlip`` (same ``prob``/``direction``; boxes and masks flip too) that also
    flips ``gt_points`` (pixel indices: x -> w - 1 - x). Padding points (label -1) stay as they
    are. It refuses to run on points that an earlier transform already left behind.

    Example: ``dict(type='RandomFlipPoints', prob=0.5, direction=['horizontal', 'vertical'])``;
    ``prob=[0.25] * 3, direction=['horizontal', 'vertical', 'diagonal']`` flips each axis
    independently with probability 0.5.
    """

    def _flip(self, results: dict) -> None:
        """Flip the image, its annotations and its point prompts (padding points stay)."""
        h, w = results['img'].shape[:2]
        super()._flip(results)
        if 'gt_points' not in results:
            return
        points = np.array(results['gt_points'], dtype=np.float32, copy=True)
        valid = np.asarray(results['gt_point_labels']) >= 0
        direction = results['flip_direction']
        if direction in ('horizontal', 'diagonal'):
            points[..., 0] = np.where(valid, w - 1 - points[..., 0], points[..., 0])
        if direction in ('vertical', 'diagonal'):
            points[..., 1] = np.where(valid, h - 1 - points[..., 1], points[..., 1])
        results['gt_points'] = points

    def transform(self, results: dict) -> dict:
        """Flip image and clicks together, then stamp the frame the clicks are now in."""
        check_points_frame(results, f'the input of {self.__class__.__name__}')
        results = super().transform(results)
        if 'gt_points' in results:
            stamp_points_frame(results)
        return results
