"""Packing of images, point prompts and (optionally) a second augmented view."""

import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs

from mmpointsam.registry import TRANSFORMS

from .point_frame import FRAME_KEY, check_points_frame

# the image meta :class:`PackSAMInputs` keeps by default
SAM_META_KEYS = (
    'img_id',
    'img_path',
    'ori_shape',
    'img_shape',
    'flip',
    'flip_direction',
    'height',
    'width',
)


def _to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    """An (H, W[, C]) image as a contiguous (C, H, W) tensor."""
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackSAMInputs(PackDetInputs):
    """``PackDetInputs`` plus point prompts and views.

    ``gt_points``/``gt_point_labels`` go to ``gt_instances.points``/``point_labels``. When the
    pipeline made a strong view (``img_strong``), ``inputs`` becomes ``dict(weak=..., strong=...)``
    so the data preprocessor treats both views alike. Refuses to pack ``gt_points`` that a
    geometric transform left behind (:mod:`.point_frame`).
    """

    mapping_table = dict(
        PackDetInputs.mapping_table, gt_points='points', gt_point_labels='point_labels'
    )

    def __init__(self, meta_keys=SAM_META_KEYS):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack as mmdet does, with the strong view (if any) beside the weak one in ``inputs``."""
        check_points_frame(results, 'PackSAMInputs (the end of the pipeline)')
        results.pop(FRAME_KEY, None)
        strong = results.pop('img_strong', None)
        # a pipeline without RandomFlip did not flip
        results.setdefault('flip', False)
        results.setdefault('flip_direction', None)
        packed = super().transform(results)
        if strong is not None:
            packed['inputs'] = dict(weak=packed['inputs'], strong=_to_chw_tensor(strong))
        return packed
