"""Training data from a scene and a point layer: chips around the clicks (or on a grid) in the
point-label dataset format, and the way back from chip predictions to the scene.

Layout of ``out_dir`` (what the clicks configs, ``configs/*/*-clicks.py``, read with
``data_root=out_dir``):
``images/<stem>_<k>.png`` (8-bit chips, after the scene's stretch; nodata 0),
``clicks/train.json`` (point labels: pixel indices in each chip; an annotation keeps its
``click_id``; background clicks become the chip's ``background_points``) and ``chips.json``, the
chip index: per chip its window in the scene and its own geotransform (GDAL order
``c, a, b, f, d, e``), with the scene's CRS, size and stretch.

``mode='clicks'``: chips of ``chip_size`` centred on the objects, greedily, until every object
lies at least ``margin`` px inside some chip (or at the scene's edge); ``mode='grid'``: the
DOTA-style grid (``chip_size``, ``overlap``), chips without objects dropped. In both, a chip
lists every object whose points all lie in it (negative points outside it are dropped).
"""

import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np
from affine import Affine
from tqdm import tqdm

from mmpointsam.apis.scene_patches import scene_windows
from mmpointsam.fileio import atomic_dump_json, atomic_open

from .geometry import shift_affine
from .progress import ChunkProgress
from .scene_segmenter import open_scene

CHIP_MODES = ('clicks', 'grid')


def _clicks_chips(anchors, width, height, size, margin):
    """Chip windows (x0, y0, x1, y1) centred on objects until each anchor is covered."""
    order = np.lexsort((anchors[:, 0], anchors[:, 1]))  # row by row
    covered = np.zeros(len(anchors), bool)
    windows = []
    w, h = min(size, width), min(size, height)
    for i in order:
        if covered[i]:
            continue
        x0 = int(np.clip(np.floor(anchors[i, 0]) - w // 2, 0, width - w))
        y0 = int(np.clip(np.floor(anchors[i, 1]) - h // 2, 0, height - h))
        x1, y1 = x0 + w, y0 + h
        lo_x = x0 + margin if x0 > 0 else 0  # the scene's edge needs no margin
        lo_y = y0 + margin if y0 > 0 else 0
        hi_x = x1 - margin if x1 < width else width
        hi_y = y1 - margin if y1 < height else height
        inside = (
            (anchors[:, 0] >= lo_x)
            & (anchors[:, 0] < hi_x)
            & (anchors[:, 1] >= lo_y)
            & (anchors[:, 1] < hi_y)
        )
        inside[i] = True  # a chip smaller than 2 margins still covers its own object
        covered |= inside
        windows.append((x0, y0, x1, y1))
    return np.array(windows, dtype=np.int64).reshape(-1, 4)


def gdal_geotransform(transform: Affine) -> List[float]:
    """An affine transform in GDAL's order (c, a, b, f, d, e)."""
    return [transform.c, transform.a, transform.b, transform.f, transform.d, transform.e]


def scene_to_point_labels(
    raster,
    clicks,
    out_dir: str,
    chip_size: int = 512,
    mode: str = 'clicks',
    overlap: int = 128,
    margin: int = 32,
    resume: bool = True,
    progress: bool = True,
    **options,
) -> dict:
    """Cut ``raster`` into chips around the objects of ``clicks`` (see the module docstring).

    ``options``: raster and click options as :func:`~.scene_segmenter.predict_geo_clicks`.
    Returns a summary: chips, objects, annotations, paths.
    """
    if mode not in CHIP_MODES:
        raise ValueError(f'mode must be one of {CHIP_MODES}, got {mode!r}')
    source, located = open_scene(raster, clicks, **options)
    stem = osp.splitext(osp.basename(source.path))[0]
    height, width = source.shape
    objects = located.objects
    pixels, labels = located.pixels.astype(np.float64), located.labels
    anchors = np.array(
        [pixels[[r for r in o.rows if labels[r] == 1]].mean(axis=0) for o in objects]
    ).reshape(-1, 2)
    if mode == 'clicks':
        windows = _clicks_chips(anchors, width, height, chip_size, margin)
    else:
        windows = scene_windows(width, height, chip_size, overlap)
    names = located.class_names()
    cat_ids = {n: i + 1 for i, n in enumerate(names)}
    settings = dict(
        raster={k: v for k, v in source.describe().items() if k != 'crs_wkt'},
        clicks=located.source,
        pixels=pixels.tolist(),
        chip_size=chip_size,
        mode=mode,
        overlap=overlap,
        margin=margin,
    )
    records = ChunkProgress(osp.join(out_dir, '.progress', 'chips'), settings, resume=resume)
    images, annotations, chips = [], [], []
    bar = tqdm(total=len(windows), unit='chip', desc=f'chips {stem}', disable=not progress)
    for x0, y0, x1, y1 in windows.tolist():
        members = []
        for j, obj in enumerate(objects):
            pos = [r for r in obj.rows if labels[r] == 1]
            pts = pixels[pos]
            if ((pts[:, 0] >= x0) & (pts[:, 0] < x1) & (pts[:, 1] >= y0) & (pts[:, 1] < y1)).all():
                members.append(j)
        bar.update(1)
        if not members:
            continue
        k = len(chips)
        file_name = f'{stem}_{k:05d}.png'
        img_id = k + 1
        for j in members:
            obj = objects[j]
            rows = [r for r in obj.rows if x0 <= pixels[r, 0] < x1 and y0 <= pixels[r, 1] < y1]
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=img_id,
                    category_id=cat_ids[obj.class_name or 'object'],
                    points=(pixels[rows] - (x0, y0)).tolist(),
                    point_labels=labels[rows].tolist(),
                    click_id=int(obj.click_id),
                )
            )
        image = dict(id=img_id, file_name=file_name, width=x1 - x0, height=y1 - y0)
        bg = [
            (pixels[r] - (x0, y0)).tolist()
            for r in located.background
            if x0 <= pixels[r, 0] < x1 and y0 <= pixels[r, 1] < y1
        ]
        if bg:
            image['background_points'] = bg
        images.append(image)
        transform = shift_affine(source.transform, x0, y0)
        chips.append(
            dict(
                id=img_id,
                file_name=file_name,
                window=[x0, y0, x1, y1],
                geotransform=gdal_geotransform(transform),
                click_ids=[int(objects[j].click_id) for j in members],
            )
        )
        path = osp.join(out_dir, 'images', file_name)
        if not (records.done(k) and osp.isfile(path)):
            ok, data = cv2.imencode('.png', source.read((x0, y0, x1, y1)))
            if not ok:
                raise OSError(f'could not encode chip {file_name}')
            with atomic_open(path, 'wb') as f:
                f.write(data.tobytes())
            records.save(k, dict(window=np.array([x0, y0, x1, y1])))
    bar.close()
    json_path = osp.join(out_dir, 'clicks', 'train.json')
    atomic_dump_json(
        dict(
            info=dict(
                description=f'chips of {osp.basename(source.path)} around the clicks of '
                f'{osp.basename(str(located.source))}',
                point_convention='pixel index [column, row]; SAM adds the half pixel',
            ),
            images=images,
            categories=[dict(id=i, name=n) for n, i in cat_ids.items()],
            annotations=annotations,
        ),
        json_path,
    )
    index_path = osp.join(out_dir, 'chips.json')
    atomic_dump_json(
        dict(
            raster=source.describe(),
            clicks=dict(source=str(located.source), crs=located.layer_crs),
            chip_size=chip_size,
            mode=mode,
            chips=chips,
        ),
        index_path,
        indent=1,
    )
    return dict(
        chips=len(chips),
        objects=len(objects),
        annotations=len(annotations),
        json=json_path,
        index=index_path,
        images=osp.join(out_dir, 'images'),
    )


class ChipIndex:
    """A ``chips.json``: map chip predictions back to the scene and to map coordinates."""

    def __init__(self, path: str) -> None:
        import json

        if not osp.isfile(path):
            raise FileNotFoundError(f'chip index not found: {path}')
        with open(path) as f:
            self.data = json.load(f)
        self.path = path
        self.by_name: Dict[str, dict] = {c['file_name']: c for c in self.data['chips']}
        raster = self.data['raster']
        self.scene_shape = (raster['height'], raster['width'])
        self.crs_wkt: Optional[str] = raster.get('crs_wkt')

    def chip(self, name: str) -> dict:
        name = osp.basename(name)
        if name not in self.by_name:
            raise KeyError(f'{self.path}: no chip named {name!r}')
        return self.by_name[name]

    def offset(self, name: str) -> np.ndarray:
        """The chip's top-left pixel (x, y) in the scene."""
        return np.asarray(self.chip(name)['window'][:2], dtype=np.int64)

    def transform(self, name: str) -> Affine:
        """The chip's own geotransform (chip pixels -> map)."""
        return Affine.from_gdal(*self.chip(name)['geotransform'])

    def points_to_scene(self, name: str, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, np.float64) + self.offset(name)

    def rboxes_to_scene(self, name: str, rboxes: np.ndarray) -> np.ndarray:
        """le90 rboxes (N, 5) in chip pixels -> scene pixels (a translation)."""
        out = np.array(rboxes, dtype=np.float64, copy=True).reshape(-1, 5)
        out[:, :2] += self.offset(name)
        return out

    def prediction_to_scene(self, name: str, pred):
        """A :class:`ClickPrediction` made on a chip, moved into the scene frame (masks stay
        cropped: only offsets, boxes, points and windows move)."""
        import copy

        dx, dy = self.offset(name)
        out = copy.copy(pred)
        out.image_shape = self.scene_shape
        out.offsets = pred.offsets + (dx, dy)
        out.rboxes = pred.rboxes.copy()
        out.rboxes[pred.valid, :2] += (dx, dy)
        out.points = pred.points + np.array([dx, dy], pred.points.dtype)
        out.windows = pred.windows + (dx, dy, dx, dy)
        out.meta = dict(pred.meta, chip=name, chip_offset=[int(dx), int(dy)])
        return out
