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
import shapely

RBOX_METHODS = ('largest', 'all')

# angles tried around the min-area angle of the pixel centres, to centre the angle in the range
# a rasterised rectangle allows (degrees); a rectangle's pixels rarely allow more than a few
_ANGLE_SPAN_DEG = 5.0
_ANGLE_STEP_DEG = 0.05


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
    return np.stack(
        [ctr + vec1 + vec2, ctr + vec1 - vec2, ctr - vec1 - vec2, ctr - vec1 + vec2], axis=-2
    )


def corners_to_rbox(corners: np.ndarray) -> np.ndarray:
    """le90 rbox (5,) of a rectangle given by its 4 corners in order around it (4, 2)."""
    corners = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    edge_w = corners[1] - corners[0]
    edge_h = corners[2] - corners[1]
    rbox = [
        *corners.mean(axis=0),
        np.hypot(*edge_w),
        np.hypot(*edge_h),
        np.arctan2(edge_w[1], edge_w[0]),
    ]
    return norm_le90(np.array(rbox))


def points_to_rbox(points: np.ndarray) -> np.ndarray:
    """le90 minimum-area rectangle (5,) of points (K, 2).

    ``cv2.minAreaRect`` finds the rectangle; its angle convention changed across OpenCV versions,
    so only its corners (``cv2.boxPoints``) are used and the angle is derived from them.
    """
    rect = cv2.minAreaRect(np.ascontiguousarray(points, dtype=np.float32).reshape(-1, 2))
    return corners_to_rbox(cv2.boxPoints(rect))


def _projections(points: np.ndarray, angles: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Coordinates (A, K) of points (K, 2) along the w axis (u) and h axis (v) of each angle."""
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    return points[:, 0] * cos + points[:, 1] * sin, -points[:, 0] * sin + points[:, 1] * cos


def _outside_hull(points: np.ndarray, hull: np.ndarray) -> np.ndarray:
    """Bool (K,): points (K, 2) outside the convex polygon ``hull`` (H, 2) (not on its edge)."""
    if len(hull) < 3:
        return np.ones(len(points), dtype=bool)
    return ~shapely.intersects_xy(shapely.Polygon(hull), points[:, 0], points[:, 1])


def _midpoint_sides(iu, iv, ou, ov, t: float) -> np.ndarray:
    """Side positions [[u_lo, u_hi], [v_lo, v_hi]] of the rectangle at angle ``t``: each side
    halfway between the outermost foreground centre and the nearest background centre beyond
    it (among those level with the foreground along the other axis)."""
    eps = 1e-6
    inside, outside = np.stack([iu, iv], axis=1), np.stack([ou, ov], axis=1)
    lo, hi = inside.min(axis=0), inside.max(axis=0)
    # no background centre beyond a side (tiny shapes): half the widest pixel extent at t
    fallback = 0.5 * max(abs(np.cos(t)), abs(np.sin(t)))
    sides = np.zeros((2, 2))
    for a in range(2):
        b = 1 - a
        level = (outside[:, b] >= lo[b] - eps) & (outside[:, b] <= hi[b] + eps)
        beyond = outside[level & (outside[:, a] > hi[a] + eps), a]
        below = outside[level & (outside[:, a] < lo[a] - eps), a]
        sides[a, 1] = (hi[a] + beyond.min()) / 2 if beyond.size else hi[a] + fallback
        sides[a, 0] = (lo[a] + below.max()) / 2 if below.size else lo[a] - fallback
    return sides


def _min_area_angle(inside: np.ndarray) -> float:
    """Direction (radians) of the min-area rectangle of the points; 0 for a single point."""
    corners = cv2.boxPoints(cv2.minAreaRect(inside.astype(np.float32))).astype(np.float64)
    # either side gives the rectangle's direction; a line of pixels has one of length 0
    edge = max(corners[1] - corners[0], corners[2] - corners[1], key=lambda e: np.hypot(*e))
    return float(np.arctan2(edge[1], edge[0])) if np.hypot(*edge) > 1e-9 else 0.0


def _background_ring(crop: np.ndarray) -> np.ndarray:
    """Centres (crop coordinates) of the background pixels 8-adjacent to the foreground."""
    pad = np.pad(crop, 1)
    ring = cv2.dilate(pad, np.ones((3, 3), np.uint8)) & (1 - pad)
    ys, xs = np.nonzero(ring)
    return np.stack([xs, ys], axis=1).astype(np.float64) - 0.5


def _clean_angles(inside: np.ndarray, outside: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Per angle: its rectangle round the foreground centres takes in no background one."""
    iu, iv = _projections(inside, angles)
    ou, ov = _projections(outside, angles)
    eps = 1e-6
    takes_in = (
        (ou > iu.min(1, keepdims=True) + eps)
        & (ou < iu.max(1, keepdims=True) - eps)
        & (ov > iv.min(1, keepdims=True) + eps)
        & (ov < iv.max(1, keepdims=True) - eps)
    )
    return ~takes_in.any(axis=1)


def _centred_angle(inside: np.ndarray, outside: np.ndarray, t0: float) -> float:
    """The middle of the range of clean angles around ``t0``; ``t0`` when it is not clean."""
    # only a shape clean at the min-area angle has a range to centre (most SAM masks are not)
    if not _clean_angles(inside, outside, np.array([t0]))[0]:
        return t0
    angles = t0 + np.radians(np.arange(-_ANGLE_SPAN_DEG, _ANGLE_SPAN_DEG + 1e-9, _ANGLE_STEP_DEG))
    ok = _clean_angles(inside, outside, angles)
    lo = hi = len(angles) // 2
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < len(angles) - 1 and ok[hi + 1]:
        hi += 1
    return float((angles[lo] + angles[hi]) / 2)


def _fit_pixel_rect(crop: np.ndarray) -> np.ndarray:
    """le90 rbox (5,) in crop pixel-corner coordinates of a binary uint8 mask (one blob or more).

    A rasterised rectangle holds exactly the pixels whose centre it covers, so its sides lie
    between the outermost foreground centres and the background centres next to them. The
    angle is the min-area angle of the foreground centres, moved to the middle of the angles
    whose rectangle round the foreground centres takes in no background centre (outside their
    hull) -- the range a rasterised rectangle allows; shapes no rectangle fits keep the min-area
    angle. Each side is then placed halfway to the nearest background centre beyond it. The old
    fit (the hull of the pixels' corners) came out ~1.2 px longer per side on tilted rectangles.
    """
    contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    inside = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64) + 0.5
    t0 = _min_area_angle(inside)
    outside = _background_ring(crop)
    # extremes along any direction are hull vertices: the rest of the centres is not needed
    inside = cv2.convexHull(inside.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    outside = outside[_outside_hull(outside, inside)]
    t = _centred_angle(inside, outside, t0)
    (iu,), (iv,) = _projections(inside, np.array([t]))
    (ou,), (ov,) = _projections(outside, np.array([t]))
    sides = _midpoint_sides(iu, iv, ou, ov, t)
    cu, cv = sides.mean(axis=1)
    cx, cy = cu * np.cos(t) - cv * np.sin(t), cu * np.sin(t) + cv * np.cos(t)
    # rounding keeps equal sides equal, so a square does not swap w/h (and turn by 90 degrees)
    w, h = np.round(sides[:, 1] - sides[:, 0], 9)
    return norm_le90(np.array([cx, cy, w, h, t]))


def mask_to_rbox(mask: np.ndarray, method: str = 'largest') -> Optional[np.ndarray]:
    """Rotated rectangle (le90, pixel-corner geometry) of a binary mask (H, W): the min-area
    rectangle of the pixel centres, each side moved halfway to the background beyond it, so a
    rasterised rectangle comes back as itself to within the pixel grid (see
    :func:`_fit_pixel_rect`).

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
    crop = (mask[y0 : rows[-1] + 1, x0 : cols[-1] + 1] != 0).astype(np.uint8)
    if method == 'largest':
        num, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
        if num > 2:
            biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            crop = (labels == biggest).astype(np.uint8)
    rbox = _fit_pixel_rect(crop)
    rbox[:2] += (x0, y0)
    return rbox


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
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
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
