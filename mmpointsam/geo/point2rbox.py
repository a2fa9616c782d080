"""Point -> rotated box on a georeferenced scene: a thin wrapper over
:class:`~mmpointsam.apis.Point2RBoxConverter` (its model, NPC and mask -> rbox rule).

The scene is cut into the converter's DOTA-style patches (``converter.patch``; 1024/200 by
default), each object decoded once in the patch where its click is deepest, every patch read
from the raster by window; boxes come back in the scene frame and are written as an ``rboxes``
layer in the raster's CRS (plus the pixel COCO / DOTA files), resumably, as
:class:`~.scene_segmenter.GeoSegmenter` does. A boxes-only layer's ``area`` is the box's area.
"""

import os.path as osp
import time
from typing import Optional

import numpy as np
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from tqdm import tqdm

from mmpointsam.apis.point2rbox import POINT_LABEL_META_KEYS
from mmpointsam.apis.scene_patches import assign_clicks, scene_windows
from mmpointsam.fileio.dota_txt import check_class_name

from .layers import object_table
from .progress import ChunkProgress
from .scene_segmenter import _sha1_arrays, model_fingerprint, open_scene, write_outputs


class GeoPoint2RBox:
    """Rotated boxes (no masks) for the objects of a click layer, with a converter's model."""

    def __init__(self, converter) -> None:
        self.converter = converter
        with DefaultScope.overwrite_default_scope('mmpointsam'):
            self.pipeline = Compose(
                [
                    dict(type='LoadPointLabels'),
                    dict(type='PackSAMInputs', meta_keys=POINT_LABEL_META_KEYS),
                ]
            )

    def run(
        self,
        raster,
        clicks,
        out_dir: str,
        fmt: str = 'gpkg',
        resume: bool = True,
        progress: bool = True,
        stem: Optional[str] = None,
        **options,
    ) -> dict:
        """Convert every object of ``clicks`` on ``raster``; options as ``GeoSegmenter.run``."""
        start = time.perf_counter()
        source, located = open_scene(raster, clicks, **options)
        names = located.class_names()
        for name in names:
            check_class_name(name)
        stem = stem or osp.splitext(osp.basename(source.path))[0]
        prompts, labels = located.prompts()
        first = prompts[:, 0]  # an object's first point is its first positive click
        height, width = source.shape
        patch = self.converter.patch or dict(size=max(height, width), overlap=0)
        windows = scene_windows(width, height, patch['size'], patch['overlap'])
        where = assign_clicks(first, windows)
        conv = self.converter
        settings = dict(
            raster={k: v for k, v in source.describe().items() if k != 'crs_wkt'},
            prompts_sha1=_sha1_arrays(prompts, labels),
            model_sha1=model_fingerprint(conv.model),
            converter=conv.settings,
        )
        records = ChunkProgress(osp.join(out_dir, '.progress', stem), settings, resume=resume)
        classes = [obj.class_name or 'object' for obj in located.objects]
        num = len(prompts)
        used = np.unique(where).tolist()
        bar = tqdm(total=num, unit='click', desc=f'point2rbox {stem}', disable=not progress)
        for k in used:
            idx = np.flatnonzero(where == k)
            if records.done(k):
                bar.update(len(idx))
                continue
            x0, y0, x1, y1 = (int(v) for v in windows[k])
            instances = []
            for i in idx:
                keep = labels[i] >= 0
                instances.append(
                    dict(
                        points=(prompts[i][keep] - (x0, y0)).tolist(),
                        point_labels=labels[i][keep].tolist(),
                        bbox_label=names.index(classes[i]),
                        ann_id=int(i),
                    )
                )
            results = dict(
                img=source.read((x0, y0, x1, y1)),
                img_shape=(y1 - y0, x1 - x0),
                ori_shape=(y1 - y0, x1 - x0),
                height=y1 - y0,
                width=x1 - x0,
                img_id=0,
                img_path=source.path,
                file_name=osp.basename(source.path),
                instances=instances,
            )
            pred = conv.predict(self.pipeline(results))
            rboxes = np.asarray(pred['rboxes'], np.float64).copy()
            rboxes[pred['valid'], :2] += (x0, y0)
            records.save(
                k, dict(index=idx, scores=pred['scores'], rboxes=rboxes, valid=pred['valid'])
            )
            bar.update(len(idx))
        bar.close()
        scores, rboxes, valid = np.zeros(num, np.float32), np.zeros((num, 5)), np.zeros(num, bool)
        for k in used:
            rec = records.load(k)
            scores[rec['index']] = rec['scores']
            rboxes[rec['index']] = rec['rboxes']
            valid[rec['index']] = rec['valid']
        return write_outputs(
            conv.description,
            source,
            located,
            out_dir,
            stem,
            None,
            None,
            scores,
            rboxes,
            valid,
            object_table(located.objects, labels),
            fmt=fmt,
            simplify=None,
            label_raster=False,
            settings=settings,
            extra=dict(num_windows=len(used), total_s=time.perf_counter() - start),
        )
