"""Distinct, deterministic colours: one per instance (or per class), stable across panels."""

import colorsys

import numpy as np

_GOLDEN_RATIO = 0.618033988749895


def instance_colors(num: int, saturation: float = 0.75, value: float = 0.95) -> np.ndarray:
    """RGB colours (num, 3) uint8 whose hues step by the golden ratio, so neighbours differ.

    Instance ``i`` gets the same colour in every panel (ground truth, prediction, pseudo mask).
    """
    hues = (np.arange(num) * _GOLDEN_RATIO + 0.1) % 1.0
    rgb = [colorsys.hsv_to_rgb(h, saturation, value) for h in hues]
    return (np.asarray(rgb, dtype=np.float64).reshape(num, 3) * 255).round().astype(np.uint8)
