"""Pixel masks and rotated boxes -> map geometries and their measures.

Geometry is pixel-corner, as rasterio's geotransform: pixel (row r, column c) covers
[c, c+1] x [r, r+1], so the scene's affine transform takes pixel-frame coordinates (of masks'
outlines and of le90 rboxes alike) straight to map coordinates.

Heading convention: the azimuth of a box's long side (its length), in degrees clockwise from
grid north (the map CRS's +y axis), in [0, 180): 0 is a box whose long side runs north-south,
90 one whose long side runs east-west. A box has no front, so headings 180 apart are the same.
"""

from typing import Optional, Tuple

import numpy as np
import shapely
from affine import Affine
from shapely.geometry import MultiPolygon, Polygon

from mmpointsam.structures import rbox_to_corners


def apply_affine(transform: Affine, xs, ys) -> Tuple[np.ndarray, np.ndarray]:
    """(x', y') = transform applied to arrays of x and y (elementwise)."""
    xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    t = transform
    return t.a * xs + t.b * ys + t.c, t.d * xs + t.e * ys + t.f


def shift_affine(transform: Affine, x: float, y: float) -> Affine:
    """The transform of a window whose top-left pixel is (x, y) of ``transform``'s grid."""
    t = transform
    return Affine(t.a, t.b, t.c + t.a * x + t.b * y, t.d, t.e, t.f + t.d * x + t.e * y)


def mask_to_multipolygon(
    mask: np.ndarray, offset: Tuple[int, int], transform: Affine, simplify: Optional[float] = None
) -> MultiPolygon:
    """A cropped bool mask whose top-left pixel is ``offset`` (x, y) of the scene -> its outline
    in map coordinates, holes kept (``rasterio.features.shapes``: exact pixel edges). An empty
    mask gives an empty MultiPolygon. ``simplify``: Douglas-Peucker tolerance in map units
    (topology kept)."""
    from rasterio import features

    if mask.size == 0 or not mask.any():
        return MultiPolygon()
    window_transform = shift_affine(transform, int(offset[0]), int(offset[1]))
    # 4-connected regions: disjoint polygons (diagonal neighbours touch at a corner only, which
    # a valid MultiPolygon allows), so no union is needed; rings are built in one vectorised
    # call (a noisy mask has thousands of them)
    rings, owner = [], []
    for k, (geom, _) in enumerate(
        (g, v)
        for g, v in features.shapes(
            mask.astype(np.uint8), mask=mask, connectivity=4, transform=window_transform
        )
        if v == 1
    ):
        for ring in geom['coordinates']:  # the shell first, then the holes
            rings.append(np.asarray(ring, dtype=np.float64))
            owner.append(k)
    ring_index = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    ring_geoms = shapely.linearrings(np.concatenate(rings), indices=ring_index)
    polygons = shapely.polygons(ring_geoms, indices=np.asarray(owner))
    if simplify:
        polygons = shapely.simplify(polygons, float(simplify), preserve_topology=True)
        polygons = polygons[~shapely.is_empty(polygons)]
    return MultiPolygon(list(polygons))


def rbox_to_map_polygon(rbox: np.ndarray, transform: Affine) -> Polygon:
    """le90 rbox (5,) in scene pixels -> its rectangle in map coordinates."""
    corners = rbox_to_corners(np.asarray(rbox, np.float64))
    xs, ys = apply_affine(transform, corners[:, 0], corners[:, 1])
    return Polygon(np.stack([xs, ys], axis=1))


def box_measures(rbox: np.ndarray, transform: Affine) -> Tuple[float, float, float]:
    """(length, width, heading in degrees) of an rbox in map units (see the module docstring).

    Length and width are the map lengths of the box's sides (the longer one is the length); the
    heading is the azimuth of the long side, clockwise from grid north, in [0, 180).
    """
    corners = rbox_to_corners(np.asarray(rbox, np.float64))
    xs, ys = apply_affine(transform, corners[:, 0], corners[:, 1])
    pts = np.stack([np.asarray(xs), np.asarray(ys)], axis=1)
    # rbox_to_corners: corner 1 -> 2 runs along the box's w side, 0 -> 1 along its h side
    side_w, side_h = pts[2] - pts[1], pts[1] - pts[0]
    len_w, len_h = float(np.hypot(*side_w)), float(np.hypot(*side_h))
    long_side = side_w if len_w >= len_h else side_h  # a square: its w side
    heading = float(np.degrees(np.arctan2(long_side[0], long_side[1]))) % 180.0
    if heading >= 180.0 - 1e-9:  # rounding just below a multiple of 180
        heading = 0.0
    return max(len_w, len_h), min(len_w, len_h), heading


def pixel_area(transform: Affine) -> float:
    """Area of one pixel in map units squared (|det| of the geotransform)."""
    return abs(transform.a * transform.e - transform.b * transform.d)
