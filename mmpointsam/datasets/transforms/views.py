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
        self.transforms = Compose(
            [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in transforms]
        )

    def transform(self, results: dict) -> dict:
        """Add ``img_strong``: the photometric transforms applied to a copy of the weak image."""
        view = dict(img=results['img'].copy(), img_shape=results['img'].shape[:2])
        view = self.transforms(view)
        if view is None:
            raise RuntimeError('a StrongView transform dropped the sample')
        strong = view['img']
        if strong.shape != results['img'].shape:
            raise ValueError(
                f'StrongView transforms must be photometric: image shape changed '
                f'from {results["img"].shape} to {strong.shape}'
            )
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
        """A random shadow polygon and its darkness factor, or None when no shadow is drawn."""
        if np.random.rand() >= self.prob:
            return None
        n = np.random.randint(self.num_vertices[0], self.num_vertices[1] + 1)
        xs = np.random.uniform(0, w, n)
        ys = np.random.uniform(0, h, n)
        order = np.argsort(np.arctan2(ys - ys.mean(), xs - xs.mean()))
        return np.stack([xs[order], ys[order]], 1).astype(np.int32), np.random.uniform(
            *self.darkness
        )

    def transform(self, results: dict) -> dict:
        """Darken a random polygon of the image with probability ``prob``."""
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
        return (
            f'{self.__class__.__name__}(prob={self.prob}, darkness={self.darkness}, '
            f'num_vertices={self.num_vertices})'
        )


@TRANSFORMS.register_module()
class PhotometricSequence(BaseTransform):
    """Photometric operations applied in a fixed order, each on its own coin flip.

    The strong view of the public PointSAM/ReSAM code: posterize, equalize, sharpen, solarize,
    brightness-contrast and shadow, each applied with probability 0.5, one after another, with
    the strengths of albumentations 1.3.1's defaults (``configs/_base_/protocols/paper.py``).
    Randomness comes from ``np.random`` (seeded by MMEngine per worker).

    Args:
        ops: a list of dicts, each ``op`` (one of :attr:`OPS`), ``prob`` and the op's settings:

            - ``posterize``: ``bits`` high bits kept per channel (0-8).
            - ``equalize``: histogram equalization of each channel (OpenCV's).
            - ``sharpen``: a 3x3 sharpening kernel ``[[-1]*3, [-1, 8 + lightness, -1], [-1]*3]``
              blended with the identity by ``alpha``; ``alpha`` and ``lightness`` are drawn
              uniformly from their (low, high) ranges.
            - ``solarize``: values >= ``threshold`` become ``255 - value``.
            - ``brightness_contrast``: ``value * (1 + c) + b * 255``, ``c`` uniform in
              ``[-contrast, contrast]``, ``b`` uniform in ``[-brightness, brightness]``.
            - ``shadow``: ``num_shadows`` (low, high) polygons of ``num_vertices`` random
              vertices inside ``roi`` (x0, y0, x1, y1, fractions of the image) have their HLS
              lightness multiplied by ``lightness``.
        channel_order: of ``results['img']`` ('bgr' as mmcv loads it, or 'rgb'); only the shadow
            converts colour spaces, and lightness is the same either way.
    """

    OPS = ('posterize', 'equalize', 'sharpen', 'solarize', 'brightness_contrast', 'shadow')

    def __init__(self, ops: List[dict], channel_order: str = 'bgr') -> None:
        for op in ops:
            if op.get('op') not in self.OPS:
                raise ValueError(
                    f'PhotometricSequence: unknown op {op.get("op")!r}, expected one of {self.OPS}'
                )
            if not 0 <= op.get('prob', 1.0) <= 1:
                raise ValueError(f'PhotometricSequence: prob of {op["op"]} must be in [0, 1]')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
        self.ops = [dict(op) for op in ops]
        self.channel_order = channel_order

    def transform(self, results: dict) -> dict:
        """Apply each op with its probability, in order, to a uint8 image."""
        img = results['img']
        if img.dtype != np.uint8:
            raise TypeError(f'PhotometricSequence needs a uint8 image, got {img.dtype}')
        for op in self.ops:
            if np.random.rand() < op.get('prob', 1.0):
                img = getattr(self, '_' + op['op'])(img, op)
        results['img'] = img
        return results

    @staticmethod
    def _lut(img: np.ndarray, lut: np.ndarray) -> np.ndarray:
        """Map a uint8 image through a 256-entry lookup table."""
        return lut.astype(np.uint8)[img]

    def _posterize(self, img: np.ndarray, op: dict) -> np.ndarray:
        """Keep the ``bits`` most significant bits of every channel."""
        bits = int(op.get('bits', 4))
        keep = (0xFF << (8 - bits)) & 0xFF
        return img & np.uint8(keep)

    def _equalize(self, img: np.ndarray, op: dict) -> np.ndarray:
        """Histogram-equalize each channel on its own (OpenCV's equalizeHist)."""
        import cv2

        if img.ndim == 2:
            return cv2.equalizeHist(img)
        return np.stack(
            [cv2.equalizeHist(np.ascontiguousarray(img[..., c])) for c in range(img.shape[2])],
            axis=-1,
        )

    def _sharpen(self, img: np.ndarray, op: dict) -> np.ndarray:
        """Blend the image with a 3x3 sharpening of it, strength and lightness drawn at random."""
        import cv2

        alpha = np.random.uniform(*op.get('alpha', (0.2, 0.5)))
        lightness = np.random.uniform(*op.get('lightness', (0.5, 1.0)))
        effect = -np.ones((3, 3), np.float32)
        effect[1, 1] = 8 + lightness
        identity = np.zeros((3, 3), np.float32)
        identity[1, 1] = 1
        kernel = ((1 - alpha) * identity + alpha * effect).astype(np.float32)
        out = cv2.filter2D(img, -1, kernel)
        return out.reshape(img.shape)

    def _solarize(self, img: np.ndarray, op: dict) -> np.ndarray:
        """Invert the values at or above ``threshold``."""
        values = np.arange(256)
        threshold = op.get('threshold', 128)
        return self._lut(img, np.where(values < threshold, values, 255 - values))

    def _brightness_contrast(self, img: np.ndarray, op: dict) -> np.ndarray:
        """Scale by 1 + contrast and shift by 255 x brightness, both drawn at random."""
        contrast, brightness = op.get('contrast', 0.2), op.get('brightness', 0.2)
        alpha = 1.0 + np.random.uniform(-contrast, contrast)
        beta = np.random.uniform(-brightness, brightness)
        lut = np.arange(256, dtype=np.float32) * alpha + beta * 255
        return self._lut(img, np.clip(lut, 0, 255))

    def _shadow(self, img: np.ndarray, op: dict) -> np.ndarray:
        """Darken random polygons inside the region of interest, in HLS lightness."""
        import cv2

        if img.ndim != 3 or img.shape[2] != 3:
            raise TypeError('PhotometricSequence: the shadow needs a 3-channel image')
        h, w = img.shape[:2]
        x0, y0, x1, y1 = op.get('roi', (0.0, 0.5, 1.0, 1.0))
        x0, x1, y0, y1 = int(x0 * w), int(x1 * w), int(y0 * h), int(y1 * h)
        low, high = op.get('num_shadows', (1, 2))
        region = np.zeros((h, w), np.uint8)
        for _ in range(np.random.randint(low, high + 1)):
            n = op.get('num_vertices', 5)
            xs = np.random.randint(x0, x1 + 1, n)
            ys = np.random.randint(y0, y1 + 1, n)
            cv2.fillPoly(region, [np.stack([xs, ys], 1).astype(np.int32)[None]], 1)
        to_hls, from_hls = (
            (cv2.COLOR_BGR2HLS, cv2.COLOR_HLS2BGR)
            if self.channel_order == 'bgr'
            else (cv2.COLOR_RGB2HLS, cv2.COLOR_HLS2RGB)
        )
        hls = cv2.cvtColor(np.ascontiguousarray(img), to_hls)
        inside = region.astype(bool)
        hls[..., 1][inside] = (hls[..., 1][inside] * op.get('lightness', 0.5)).astype(np.uint8)
        return cv2.cvtColor(hls, from_hls)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(ops={self.ops}, channel_order={self.channel_order!r})'
