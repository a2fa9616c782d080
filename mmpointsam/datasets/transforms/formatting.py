"""Packing of images, point prompts and (optionally) a second augmented view."""
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs

from mmpointsam.registry import TRANSFORMS


def _to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackSAMInputs(PackDetInputs):
    """``PackDetInputs`` plus point prompts and views.

    ``gt_points``/``gt_point_labels`` go to ``gt_instances.points``/``point_labels``. When the
    pipeline made a strong view (``img_strong``), ``inputs`` becomes ``dict(weak=..., strong=...)``
    so the data preprocessor treats both views alike.
    """

    mapping_table = dict(PackDetInputs.mapping_table,
                         gt_points='points', gt_point_labels='point_labels')

    def __init__(self,
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'flip',
                            'flip_direction', 'height', 'width')):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        strong = results.pop('img_strong', None)
        # a pipeline without RandomFlip did not flip
        results.setdefault('flip', False)
        results.setdefault('flip_direction', None)
        packed = super().transform(results)
        if strong is not None:
            packed['inputs'] = dict(weak=packed['inputs'], strong=_to_chw_tensor(strong))
        return packed
