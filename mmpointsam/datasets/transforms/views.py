"""Weak and strong views of one image for self-training (teacher on weak, student on strong).

The strong view is the weak one plus photometric changes only, so geometry, masks and point
prompts are shared by both views.
"""
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmcv.transforms.utils import cache_randomness

from mmpointsam.registry import TRANSFORMS


@TRANSFORMS.register_module()
class StrongView(BaseTransform):
    """Apply photometric ``transforms`` to a copy of ``img`` and store it as ``img_strong``.

    Only the image goes through ``transforms`` (annotations are not shared with them), so a
    transform that moved pixels would be caught by the shape check.

    Args:
        transforms: photometric transform configs, e.g. mmdet's ``Posterize``, ``Equalize``,
            ``Sharpness``, ``Solarize``, ``Brightness``, ``Contrast`` and :class:`RandomShadow`,
            usually inside a ``RandomChoice``/``RandomApply``.
    """

    def __init__(self, transforms: List[dict]) -> None:
        # built in our scope, so mmpointsam, mmdet and mmcv transforms all resolve
        self.transforms = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                   for t in transforms])

    def transform(self, results: dict) -> dict:
        view = dict(img=results['img'].copy(), img_shape=results['img'].shape[:2])
        view = self.transforms(view)
        if view is None:
            raise RuntimeError('a StrongView transform dropped the sample')
        strong = view['img']
        if strong.shape != results['img'].shape:
            raise ValueError(f'StrongView transforms must be photometric: image shape changed '
                             f'from {results["img"].shape} to {strong.shape}')
        results['img_strong'] = strong
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transforms={self.transforms})'


@TRANSFORMS.register_module()
class RandomShadow(BaseTransform):
    """Darken a random polygonal region, like a cloud or building shadow on an aerial image.

    Args:
        prob: probability of applying it.
        darkness: range of the multiplicative factor inside the shadow.
        num_vertices: range of the shadow polygon's vertex count.
    """

    def __init__(self, prob: float = 0.5, darkness=(0.4, 0.8), num_vertices=(3, 7)) -> None:
        self.prob = prob
        self.darkness = darkness
        self.num_vertices = num_vertices

    @cache_randomness
    def _sample(self, h: int, w: int) -> Optional[tuple]:
        if np.random.rand() >= self.prob:
            return None
        n = np.random.randint(self.num_vertices[0], self.num_vertices[1] + 1)
        xs = np.random.uniform(0, w, n)
        ys = np.random.uniform(0, h, n)
        order = np.argsort(np.arctan2(ys - ys.mean(), xs - xs.mean()))
        return np.stack([xs[order], ys[order]], 1).astype(np.int32), np.random.uniform(
            *self.darkness)

    def transform(self, results: dict) -> dict:
        import cv2
        img = results['img']
        sample = self._sample(*img.shape[:2])
        if sample is None:
            return results
        polygon, factor = sample
        region = np.zeros(img.shape[:2], dtype=np.uint8)
        cv2.fillPoly(region, [polygon], 1)
        out = img.astype(np.float32)
        out[region.astype(bool)] *= factor
        results['img'] = np.clip(out, 0, 255).astype(img.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, darkness={self.darkness}, '
                f'num_vertices={self.num_vertices})')
