"""Rotated-box geometry in the le90 convention: masks -> min-area rectangles, corners, rasterising.

Geometry is pixel-corner: pixel (row r, column c) covers the unit square [c, c+1] x [r, r+1], so a
1-pixel mask is a 1x1 box centred at (c + 0.5, r + 0.5). This is the frame of COCO polygons/boxes
and of mmdet/MMRotate boxes. An rbox is (cx, cy, w, h, angle) with the angle in radians from the
x axis to the w side (y pointing down, as in MMRotate); le90 means w >= h and angle in
[-pi/2, pi/2).
"""
from typing import Optional, Tuple

import cv2
import numpy as np

RBOX_METHODS = ('largest', 'all')

# offsets from a pixel's index (x=c, y=r) to its four corners
_PIXEL_CORNERS = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)


def norm_le90(rboxes: np.ndarray) -> np.ndarray:
    """Normalise rboxes (..., 5) to le90 (w >= h, angle in [-pi/2, pi/2)): same boxes."""
    out = np.array(rboxes, dtype=np.float64, copy=True)
    if out.shape[-1] != 5:
        raise ValueError(f'rboxes must have shape (..., 5), got {out.shape}')
    w, h, t = out[..., 2].copy(), out[..., 3].copy(), out[..., 4].copy()
    swap = w < h
    out[..., 2] = np.where(swap, h, w)
    out[..., 3] = np.where(swap, w, h)
    t = np.where(swap, t + np.pi / 2, t)
    t = np.mod(t + np.pi / 2, np.pi) - np.pi / 2
    # np.mod can round up to exactly pi for tiny negative inputs
    out[..., 4] = np.where(t >= np.pi / 2, t - np.pi, t)
    return out


def rbox_to_corners(rboxes: np.ndarray) -> np.ndarray:
    """Corners (..., 4, 2) of rboxes (..., 5), in MMRotate's ``rbox2qbox`` order."""
    rboxes = np.asarray(rboxes, dtype=np.float64)
    ctr, w, h, t = rboxes[..., :2], rboxes[..., 2:3], rboxes[..., 3:4], rboxes[..., 4:5]
    cos, sin = np.cos(t), np.sin(t)
    vec1 = np.concatenate([w / 2 * cos, w / 2 * sin], axis=-1)
    vec2 = np.concatenate([-h / 2 * sin, h / 2 * cos], axis=-1)
    return np.stack([ctr + vec1 + vec2, ctr + vec1 - vec2, ctr - vec1 - vec2, ctr - vec1 + vec2],
                    axis=-2)


def corners_to_rbox(corners: np.ndarray) -> np.ndarray:
    """le90 rbox (5,) of a rectangle given by its 4 corners in order around it (4, 2)."""
    corners = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    edge_w = corners[1] - corners[0]
    edge_h = corners[2] - corners[1]
    rbox = [*corners.mean(axis=0), np.hypot(*edge_w), np.hypot(*edge_h),
            np.arctan2(edge_w[1], edge_w[0])]
    return norm_le90(np.array(rbox))


def points_to_rbox(points: np.ndarray) -> np.ndarray:
    """le90 minimum-area rectangle (5,) of points (K, 2).

    ``cv2.minAreaRect`` finds the rectangle; its angle convention changed across OpenCV versions,
    so only its corners (``cv2.boxPoints``) are used and the angle is derived from them.
    """
    rect = cv2.minAreaRect(np.ascontiguousarray(points, dtype=np.float32).reshape(-1, 2))
    return corners_to_rbox(cv2.boxPoints(rect))


def _outer_pixel_corners(mask: np.ndarray) -> np.ndarray:
    """Corners (K, 2) of the outer-boundary pixels of a binary mask: their hull is the mask's."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    pixels = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64)
    return (pixels[:, None, :] + _PIXEL_CORNERS[None]).reshape(-1, 2)


def mask_to_rbox(mask: np.ndarray, method: str = 'largest') -> Optional[np.ndarray]:
    """Minimum-area rotated rectangle (le90, pixel-corner geometry) of a binary mask (H, W).

    Args:
        mask: binary mask; non-zero pixels are foreground.
        method: ``'largest'``: the rectangle of the largest 8-connected component (drops SAM's
            small stray blobs); ``'all'``: of all foreground pixels.

    Returns:
        ``np.ndarray`` (5,) ``(cx, cy, w, h, angle)``, or None for an empty mask.
    """
    if method not in RBOX_METHODS:
        raise ValueError(f'unknown mask -> rbox method {method!r}; choose from {RBOX_METHODS}')
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'mask must be 2-D (H, W), got shape {mask.shape}')
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    # work on the mask's bounding crop: connected components and contours cost O(crop)
    y0, x0 = rows[0], cols[0]
    crop = (mask[y0:rows[-1] + 1, x0:cols[-1] + 1] != 0).astype(np.uint8)
    if method == 'largest':
        num, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
        if num > 2:
            biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            crop = (labels == biggest).astype(np.uint8)
    points = _outer_pixel_corners(crop) + np.array([x0, y0], dtype=np.float64)
    return points_to_rbox(points)


def masks_to_rboxes(masks: np.ndarray, method: str = 'largest') -> Tuple[np.ndarray, np.ndarray]:
    """:func:`mask_to_rbox` over masks (N, H, W): rboxes (N, 5) and a bool (N,) of non-empty ones
    (rows of empty masks are zeros)."""
    rboxes = np.zeros((len(masks), 5), dtype=np.float64)
    valid = np.zeros(len(masks), dtype=bool)
    for i, mask in enumerate(masks):
        rbox = mask_to_rbox(mask, method)
        if rbox is not None:
            rboxes[i], valid[i] = rbox, True
    return rboxes, valid


def rbox_to_mask(rbox: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Rasterise one rbox (5,) to a bool mask of ``shape`` (H, W): the pixels whose centre lies in
    the box (closed)."""
    cx, cy, w, h, t = (float(v) for v in rbox)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    dx, dy = xs + 0.5 - cx, ys + 0.5 - cy
    # coordinates of the pixel centres along the box's w and h sides
    u = dx * np.cos(t) + dy * np.sin(t)
    v = -dx * np.sin(t) + dy * np.cos(t)
    eps = 1e-9
    return (np.abs(u) <= w / 2 + eps) & (np.abs(v) <= h / 2 + eps)


def rbox_to_hbox(rboxes: np.ndarray) -> np.ndarray:
    """Axis-aligned boxes (..., 4) ``x, y, w, h`` (COCO ``bbox``) enclosing rboxes (..., 5)."""
    corners = rbox_to_corners(rboxes)
    mins, maxs = corners.min(axis=-2), corners.max(axis=-2)
    return np.concatenate([mins, maxs - mins], axis=-1)
