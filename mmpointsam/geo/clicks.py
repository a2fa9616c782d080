"""Clicks in map coordinates (GeoPackage, GeoJSON, Shapefile, CSV, a GeoDataFrame) -> pixel
prompts on a raster.

Each Point feature is one click. Its coordinates are reprojected from the layer's CRS to the
raster's and located on the raster's pixel grid: a click falls in the pixel that contains it and
prompts SAM at that pixel's centre (the project's point convention: pixel index [column, row],
SAM adds the half pixel). Attributes: ``class_field`` names the object's class; clicks that share
a ``group_field`` value are the points of one object (several positive clicks, and negative ones
that belong to it); ``label_field`` is 1 for a positive and 0 for a negative click. A negative
click without a group is background for every object. A CSV has ``x``/``y`` columns in the CRS
given by ``crs``, or ``lon``/``lat`` (WGS 84 unless ``crs`` says otherwise), and optionally
``id`` (the feature id; else the line number).

Every fault is an error that names the file, the feature id and its coordinates: a click outside
the raster, on a nodata pixel, a layer or raster without CRS (``assume_crs`` sets one), a
missing or empty attribute, a geometry that is not a point.
"""

import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .crs import crs_name, parse_crs
from .errors import (
    ClickAttributeError,
    ClickOnNodataError,
    ClickOutsideRasterError,
    GeoInputError,
    MissingCRSError,
    describe_features,
)
from .geometry import apply_affine

CSV_XY = (('x', 'y'), ('lon', 'lat'), ('longitude', 'latitude'))
POSITIVE, NEGATIVE = 1, 0


@dataclass
class GeoObject:
    """One object to segment: its prompt points (feature rows of :class:`GeoClicks`)."""

    click_id: int  # the feature id of its first positive click
    class_name: Optional[str]
    group: Optional[str]
    rows: List[int]  # indices into GeoClicks' arrays, positives first


@dataclass
class GeoClicks:
    """Clicks located on a raster.

    ``feature_ids`` (K,), ``xy_layer`` (K, 2) coordinates as read, ``xy_map`` (K, 2) in the
    raster's CRS, ``pixels`` (K, 2) int pixel index (column, row), ``labels`` (K,) 1/0,
    ``classes``/``groups`` (K,) str or None, and the objects built from them.
    """

    source: str
    layer_crs: str
    feature_ids: np.ndarray
    xy_layer: np.ndarray
    xy_map: np.ndarray
    pixels: np.ndarray
    labels: np.ndarray
    classes: List[Optional[str]]
    groups: List[Optional[str]]
    objects: List[GeoObject] = field(default_factory=list)
    background: List[int] = field(default_factory=list)  # rows of negative clicks without group

    def prompts(self) -> Tuple[np.ndarray, np.ndarray]:
        """(N, P, 2) float32 pixel prompts and (N, P) labels (1, 0, -1 padding), one per object;
        background clicks are added to every object."""
        rows = [obj.rows + self.background for obj in self.objects]
        width = max((len(r) for r in rows), default=1)
        points = np.zeros((len(rows), width, 2), np.float32)
        labels = np.full((len(rows), width), -1, np.int64)
        for i, r in enumerate(rows):
            points[i, : len(r)] = self.pixels[r]
            labels[i, : len(r)] = self.labels[r]
        return points, labels

    def class_names(self) -> List[str]:
        """Classes in order of first appearance (``object`` when the layer has no class)."""
        names = []
        for obj in self.objects:
            name = obj.class_name if obj.class_name is not None else 'object'
            if name not in names:
                names.append(name)
        return names


def _text(value) -> Optional[str]:
    """An attribute value as text; None for null/NaN/empty."""
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _read_csv(path: str, crs):
    import pandas as pd

    table = pd.read_csv(path)
    columns = {c.strip().lower(): c for c in table.columns}
    for xname, yname in CSV_XY:
        if xname in columns and yname in columns:
            break
    else:
        raise GeoInputError(
            f'{path}: a click CSV needs columns x,y (with --crs) or lon,lat; '
            f'got {list(table.columns)}'
        )
    geographic = xname != 'x'
    if crs is None and not geographic:
        raise MissingCRSError(
            f'{path}: the CSV has x,y columns but no CRS: give the CRS of its coordinates with '
            '--crs (crs=), e.g. --crs EPSG:32650'
        )
    layer_crs = parse_crs(crs, 'crs') if crs is not None else parse_crs('EPSG:4326')
    try:
        xy = table[[columns[xname], columns[yname]]].to_numpy(dtype=np.float64)
    except ValueError:
        raise GeoInputError(f'{path}: columns {xname},{yname} must hold numbers') from None
    if 'id' in columns:
        ids = [_text(v) for v in table[columns['id']]]
        try:
            ids = np.asarray([int(v) for v in ids], dtype=np.int64)
        except (TypeError, ValueError):
            raise GeoInputError(f'{path}: the "id" column must hold integers') from None
    else:
        ids = np.arange(len(table), dtype=np.int64) + 2  # line numbers (header is line 1)
    attrs = {c: table[c].tolist() for c in table.columns}
    return ids, xy, layer_crs, attrs, {k: v for k, v in columns.items()}


def _read_layer(source, layer, crs, assume_crs):
    """(ids, xy, layer CRS, attributes, lower-case name -> column) of a vector layer."""
    import geopandas as gpd
    import pyogrio

    if isinstance(source, gpd.GeoDataFrame):
        frame, where = source, '<GeoDataFrame>'
    else:
        where = os.fspath(source)
        if not osp.exists(where):
            raise FileNotFoundError(f'click layer not found: {where}')
        try:
            frame = pyogrio.read_dataframe(where, layer=layer, fid_as_index=True)
        except Exception as e:  # pyogrio's DataSourceError and friends
            raise GeoInputError(f'{where}: not a vector layer GDAL can read ({e})') from None
    own = parse_crs(frame.crs) if frame.crs is not None else None
    given = parse_crs(crs, 'crs')
    if own is not None and given is not None and not own.equals(given):
        raise GeoInputError(
            f'{where}: the layer is in {crs_name(own)} but --crs says {crs_name(given)}'
        )
    layer_crs = own or given or parse_crs(assume_crs, 'assume_crs')
    if layer_crs is None:
        raise MissingCRSError(
            f'{where}: the click layer has no coordinate reference system; give the one it is '
            'in with --assume-crs (assume_crs=), e.g. --assume-crs EPSG:4326'
        )
    try:  # fids of a file; a GeoDataFrame's integer index
        ids = np.asarray(frame.index, dtype=np.int64)
    except (TypeError, ValueError):  # a non-integer index: row numbers
        ids = np.arange(len(frame), dtype=np.int64)
    geoms = frame.geometry
    kinds = np.asarray(geoms.geom_type.fillna('None'))
    missing = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    bad = missing | (kinds != 'Point')
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = 'no geometry' if missing[i] else f'a {kinds[i]}'
        raise GeoInputError(
            f'{where}: feature {ids[i]} has {what}; each click must be one Point '
            f'({int(bad.sum())} such feature(s)); several points of one object share a group '
            'attribute (--group-field)'
        )
    xy = np.stack([geoms.x.to_numpy(), geoms.y.to_numpy()], axis=1).astype(np.float64)
    attrs = {c: frame[c].tolist() for c in frame.columns if c != frame.geometry.name}
    return where, ids, xy, layer_crs, attrs


def _field(attrs: dict, name: Optional[str], where: str, what: str):
    if name is None:
        return None
    if name not in attrs:
        raise ClickAttributeError(
            f'{where}: no attribute {name!r} for the {what} (attributes: {sorted(attrs)})'
        )
    return attrs[name]


def read_clicks(
    clicks,
    raster,
    class_field: Optional[str] = None,
    group_field: Optional[str] = None,
    label_field: Optional[str] = None,
    crs=None,
    assume_crs=None,
    layer: Optional[str] = None,
) -> GeoClicks:
    """Read a click layer and locate it on ``raster`` (a :class:`RasterSource`).

    Args:
        clicks: a vector file (GeoPackage, GeoJSON, Shapefile...), a CSV, or a GeoDataFrame.
        class_field, group_field, label_field: attribute names (see the module docstring).
        crs: the CRS of a CSV's coordinates (a layer's own CRS must agree with it).
        assume_crs: the CRS of a layer that has none.
        layer: the layer of a multi-layer file (GeoPackage).
    """
    from pyproj import Transformer

    if isinstance(clicks, (str, os.PathLike)) and os.fspath(clicks).lower().endswith('.csv'):
        where = os.fspath(clicks)
        if not osp.isfile(where):
            raise FileNotFoundError(f'click CSV not found: {where}')
        ids, xy, layer_crs, attrs, _ = _read_csv(where, crs if crs is not None else assume_crs)
    else:
        where, ids, xy, layer_crs, attrs = _read_layer(clicks, layer, crs, assume_crs)
    if len(ids) == 0:
        raise GeoInputError(f'{where}: the click layer has no features')
    if len(set(ids.tolist())) != len(ids):
        raise GeoInputError(f'{where}: feature ids are not unique')
    # map coordinates in the raster's CRS
    if raster.crs is None:
        raise MissingCRSError(f'{raster.path}: the raster has no CRS; give --assume-crs')
    if layer_crs.equals(raster.crs):
        xy_map = xy.copy()
    else:
        transformer = Transformer.from_crs(layer_crs, raster.crs, always_xy=True)
        xy_map = np.stack(transformer.transform(xy[:, 0], xy[:, 1]), axis=1)
    cols, rows = apply_affine(~raster.transform, xy_map[:, 0], xy_map[:, 1])
    inside = (cols >= 0) & (cols < raster.width) & (rows >= 0) & (rows < raster.height)
    if not inside.all():  # also NaN / inf from a failed reprojection
        out = np.flatnonzero(~inside)
        raise ClickOutsideRasterError(
            f'{where}: {len(out)} click(s) outside the raster {raster.path} '
            f'({raster.width}x{raster.height} px, bounds in {crs_name(raster.crs)}: '
            f'{_bounds(raster)}): '
            + describe_features(ids[out], xy[out])
            + f' in {crs_name(layer_crs)}'
        )
    pixels = np.stack([np.floor(cols), np.floor(rows)], axis=1).astype(np.int64)
    valid = raster.valid_at(pixels[:, 0], pixels[:, 1])
    if not valid.all():
        bad = np.flatnonzero(~valid)
        raise ClickOnNodataError(
            f'{where}: {len(bad)} click(s) on nodata pixels of {raster.path}: '
            + describe_features(ids[bad], xy[bad])
            + f' in {crs_name(layer_crs)} (pixels (col, row) {pixels[bad[:3]].tolist()})'
        )
    n = len(ids)
    class_values = _field(attrs, class_field, where, 'class (--class-field)')
    group_values = _field(attrs, group_field, where, 'group (--group-field)')
    label_values = _field(attrs, label_field, where, 'label (--label-field)')
    classes = [None] * n if class_values is None else [_text(v) for v in class_values]
    groups = [None] * n if group_values is None else [_text(v) for v in group_values]
    labels = np.ones(n, np.int64)
    if label_values is not None:
        for i, v in enumerate(label_values):
            text = _text(v)
            if text not in ('0', '1', 'True', 'False', 'true', 'false'):
                raise ClickAttributeError(
                    f'{where}: feature {ids[i]} has {label_field}={v!r}; a click label is 1 '
                    '(positive) or 0 (negative)'
                )
            labels[i] = POSITIVE if text in ('1', 'True', 'true') else NEGATIVE
    if class_values is not None:
        no_class = [i for i in range(n) if labels[i] == POSITIVE and classes[i] is None]
        if no_class:
            raise ClickAttributeError(
                f'{where}: {len(no_class)} positive click(s) without a {class_field!r} value: '
                + describe_features(ids[no_class], xy[no_class])
            )
    result = GeoClicks(
        source=where,
        layer_crs=crs_name(layer_crs),
        feature_ids=ids,
        xy_layer=xy,
        xy_map=xy_map,
        pixels=pixels,
        labels=labels,
        classes=classes,
        groups=groups,
    )
    _build_objects(result, where)
    return result


def _bounds(raster) -> str:
    xs, ys = apply_affine(raster.transform, [0, raster.width], [0, raster.height])
    return f'x {min(xs):.10g}..{max(xs):.10g}, y {min(ys):.10g}..{max(ys):.10g}'


def _build_objects(clicks: GeoClicks, where: str) -> None:
    """Objects from the clicks: a positive click without group is an object; a group is one."""
    grouped = {}
    for i, (label, group) in enumerate(zip(clicks.labels, clicks.groups)):
        if group is None:
            if label == POSITIVE:
                clicks.objects.append(
                    GeoObject(int(clicks.feature_ids[i]), clicks.classes[i], None, [i])
                )
            else:
                clicks.background.append(i)
            continue
        if group not in grouped:
            grouped[group] = GeoObject(-1, None, group, [])
            clicks.objects.append(grouped[group])
        grouped[group].rows.append(i)
    for group, obj in grouped.items():
        pos = [i for i in obj.rows if clicks.labels[i] == POSITIVE]
        if not pos:
            raise ClickAttributeError(
                f'{where}: group {group!r} has no positive click (features '
                f'{clicks.feature_ids[obj.rows].tolist()})'
            )
        names = {clicks.classes[i] for i in pos}
        if len(names) > 1:
            raise ClickAttributeError(
                f'{where}: group {group!r} mixes classes {sorted(map(str, names))} (features '
                f'{clicks.feature_ids[pos].tolist()})'
            )
        obj.rows = pos + [i for i in obj.rows if clicks.labels[i] != POSITIVE]
        obj.click_id = int(clicks.feature_ids[pos[0]])
        obj.class_name = clicks.classes[pos[0]]


__all__: Sequence[str] = ['GeoClicks', 'GeoObject', 'read_clicks']
