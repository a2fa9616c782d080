"""Exact IoU of rotated boxes by polygon clipping in float64 (shapely/GEOS).

Why not ``mmcv.ops``: on CPU, mmcv 2.0.1's ``box_iou_rotated`` can return ~0.33 for one box given
in two parametrisations (w/h swapped with angle + pi/2, or angle + pi), and both it and
``box_iou_quadri`` (float32) can be far off when two boxes have collinear edges (e.g. same angle
and width, heights differing by a pixel: 0.33 for a true 0.99), which boxes from pixel masks
often have. Label-quality numbers are computed here instead.
"""

import numpy as np
import shapely

from .rbox import rbox_to_corners


def _polygons(rboxes: np.ndarray) -> np.ndarray:
    """le90 rotated boxes as shapely polygons."""
    rboxes = np.asarray(rboxes, dtype=np.float64).reshape(-1, 5)
    return shapely.polygons(rbox_to_corners(rboxes))


def rbox_iou(rboxes1: np.ndarray, rboxes2: np.ndarray, aligned: bool = False) -> np.ndarray:
    """IoU of rboxes (N, 5) and (M, 5): an (N, M) matrix, or (N,) for ``aligned`` pairs (N == M).

    Any parametrisation of a box gives the same result; boxes of zero area have IoU 0.
    """
    rboxes1 = np.asarray(rboxes1, dtype=np.float64).reshape(-1, 5)
    rboxes2 = np.asarray(rboxes2, dtype=np.float64).reshape(-1, 5)
    if aligned and len(rboxes1) != len(rboxes2):
        raise ValueError(
            f'aligned IoU needs as many boxes on both sides, got {len(rboxes1)} and {len(rboxes2)}'
        )
    area1 = np.abs(rboxes1[:, 2] * rboxes1[:, 3])
    area2 = np.abs(rboxes2[:, 2] * rboxes2[:, 3])
    if aligned:
        inter = shapely.area(shapely.intersection(_polygons(rboxes1), _polygons(rboxes2)))
        union = area1 + area2 - inter
    else:
        if len(rboxes1) == 0 or len(rboxes2) == 0:
            return np.zeros((len(rboxes1), len(rboxes2)), dtype=np.float64)
        inter = shapely.area(
            shapely.intersection(_polygons(rboxes1)[:, None], _polygons(rboxes2)[None, :])
        )
        union = area1[:, None] + area2[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
