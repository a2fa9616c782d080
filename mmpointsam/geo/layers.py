"""Per-object predictions -> GIS layers: mask polygons and rotated boxes, one feature per object.

Both layers share the attribute table (names fit a Shapefile's 10 characters):

- ``click_id``: the feature id of the object's (first positive) click in the click layer;
- ``group``: its group value (several clicks of one object), or null;
- ``class``: its class (``object`` when the layer has no class attribute);
- ``score``: SAM's predicted IoU of the mask;
- ``area``: the mask's area in map units squared (pixels x pixel area);
- ``length``, ``width``: the rotated box's sides in map units (length >= width);
- ``heading``: azimuth of the box's long side, degrees clockwise from grid north, [0, 180);
- ``num_points``: the object's prompt points (positive and negative, background included);
- ``empty_mask``: 1 when the mask came back empty (the feature is kept, its geometry empty,
  its measures 0), else 0;
- ``raster_id``: the object's value in the optional label raster (row number + 1; 0 there is
  background).
"""

from typing import List, Optional

import numpy as np

from .geometry import box_measures, mask_to_multipolygon, pixel_area, rbox_to_map_polygon

COLUMNS = (
    'click_id',
    'group',
    'class',
    'score',
    'area',
    'length',
    'width',
    'heading',
    'num_points',
    'empty_mask',
    'raster_id',
)


def object_table(objects, point_labels: np.ndarray) -> List[dict]:
    """The attributes that come from the clicks, one dict per object."""
    rows = []
    for i, obj in enumerate(objects):
        rows.append(
            dict(
                click_id=int(obj.click_id),
                group=obj.group,
                **{'class': obj.class_name if obj.class_name is not None else 'object'},
                num_points=int((np.asarray(point_labels[i]) >= 0).sum()),
                raster_id=i + 1,
            )
        )
    return rows


def build_layers(
    masks: Optional[List[np.ndarray]],
    offsets: np.ndarray,
    scores: np.ndarray,
    rboxes: np.ndarray,
    valid: np.ndarray,
    table: List[dict],
    transform,
    crs,
    simplify: Optional[float] = None,
):
    """(masks layer or None, rboxes layer) as GeoDataFrames in ``crs``.

    ``masks`` None: a boxes-only run (point -> rbox), ``area`` is then the box's area.
    """
    import geopandas as gpd
    from shapely.geometry import MultiPolygon, Polygon

    unit_area = pixel_area(transform)
    attrs, mask_geoms, box_geoms = [], [], []
    for i, row in enumerate(table):
        ok = bool(valid[i])
        length, width, heading = box_measures(rboxes[i], transform) if ok else (0.0, 0.0, 0.0)
        if masks is not None:
            area = float(masks[i].sum()) * unit_area if ok else 0.0
            mask_geoms.append(
                mask_to_multipolygon(masks[i], offsets[i], transform, simplify)
                if ok
                else MultiPolygon()
            )
        else:
            area = length * width
        box_geoms.append(rbox_to_map_polygon(rboxes[i], transform) if ok else Polygon())
        attrs.append(
            dict(
                row,
                score=float(scores[i]),
                area=area,
                length=length,
                width=width,
                heading=heading,
                empty_mask=int(not ok),
            )
        )
    columns = {c: [a[c] for a in attrs] for c in COLUMNS}
    rbox_layer = gpd.GeoDataFrame(columns, geometry=box_geoms, crs=crs)
    mask_layer = (
        None if masks is None else gpd.GeoDataFrame(dict(columns), geometry=mask_geoms, crs=crs)
    )
    return mask_layer, rbox_layer
