"""Clicks in map coordinates on a georeferenced scene -> masks and rotated boxes as GIS layers.

:func:`predict_geo_clicks` is what ``PointSAMInferencer(raster, click_layer)`` runs: the clicks
are read and located on the raster, the objects decoded window by window (the raster is never
read whole) and the prediction carries what the layers need. :class:`GeoSegmenter` is the
resumable, writing version behind ``tools/geo/segment.py``: work goes in chunks of windows, each
finished chunk is recorded atomically, a rerun skips the recorded ones, and the outputs are
written (each atomically) once every chunk is done.

Outputs in ``out_dir`` for a scene ``STEM``: ``STEM.gpkg`` with layers ``masks`` and ``rboxes``
(or ``STEM_masks.geojson`` / ``.shp`` ...), in the raster's CRS (:mod:`.layers` lists the
attributes); ``STEM_labels.tif`` (optional instance label COG); the pixel-frame rotated boxes
for MMRotate, ``STEM_rboxes_pixel.json`` (COCO, 4-corner polygons) and ``annfiles/STEM.txt``
(DOTA); ``STEM_run.json`` (inputs, model, stretch, counts), written last.
"""

import hashlib
import os
import os.path as osp
import time
from typing import Optional, Tuple

import numpy as np
from mmengine.logging import print_log
from tqdm import tqdm

from mmpointsam.apis.inferencer import ClickPrediction, add_click_negatives, plan_windows
from mmpointsam.fileio import atomic_dump_json, dump_dota_txt, rbox_to_coco_ann
from mmpointsam.fileio.dota_txt import check_class_name
from mmpointsam.structures import rbox_to_corners

from .clicks import GeoClicks, read_clicks
from .label_raster import write_label_raster
from .layer_writer import write_layers
from .layers import build_layers, object_table
from .progress import ChunkProgress, pack_masks, unpack_masks
from .raster_source import RasterSource

RASTER_OPTIONS = ('bands', 'stretch', 'percentiles', 'sar', 'assume_crs', 'cache_mb')
CLICK_OPTIONS = ('class_field', 'group_field', 'label_field', 'crs', 'assume_crs', 'layer')


def open_raster(raster, **options) -> RasterSource:
    """A :class:`RasterSource` for a path (``options`` go to it), or the given one."""
    if isinstance(raster, RasterSource):
        return raster
    return RasterSource(raster, **{k: v for k, v in options.items() if k in RASTER_OPTIONS})


def locate_clicks(source: RasterSource, clicks, **options) -> GeoClicks:
    return read_clicks(clicks, source, **{k: v for k, v in options.items() if k in CLICK_OPTIONS})


def _check_options(options: dict) -> None:
    unknown = sorted(set(options) - set(RASTER_OPTIONS) - set(CLICK_OPTIONS))
    if unknown:
        raise TypeError(
            f'unknown options {unknown}; raster: {RASTER_OPTIONS}, clicks: {CLICK_OPTIONS}'
        )


def open_scene(raster, clicks, **options) -> Tuple[RasterSource, GeoClicks]:
    """Check ``options``, open ``raster`` and locate ``clicks`` on it: the start of every geo
    run (raster options go to :class:`RasterSource`, click options to :func:`read_clicks`)."""
    _check_options(options)
    source = open_raster(raster, **options)
    return source, locate_clicks(source, clicks, **options)


def predict_geo_clicks(inferencer, raster, clicks, **options) -> ClickPrediction:
    """Segment the objects of a click layer on a georeferenced raster (one call, no files).

    Args:
        inferencer: a :class:`~mmpointsam.apis.PointSAMInferencer`.
        raster: a raster path or a :class:`RasterSource`.
        clicks: a vector path (GeoPackage, GeoJSON, Shapefile, CSV) or a GeoDataFrame.
        options: raster options (``bands``, ``stretch``, ``percentiles``, ``sar``,
            ``assume_crs``) and click options (``class_field``, ``group_field``,
            ``label_field``, ``crs``, ``layer``).

    Returns:
        A :class:`ClickPrediction`, one entry per object, whose ``meta['geo']`` holds the
        ``clicks`` (:class:`GeoClicks`), the attribute ``table``, the raster's ``crs`` and
        ``transform``, and ``raster`` (its description, the stretch included);
        :func:`prediction_layers` turns it into GIS layers.
    """
    source, located = open_scene(raster, clicks, **options)
    prompts, labels = located.prompts()
    pred = inferencer(source, prompts, labels)
    pred.meta['geo'] = dict(
        clicks=located,
        table=object_table(located.objects, pred.point_labels),
        crs=source.crs,
        transform=source.transform,
        raster=source.describe(),
    )
    return pred


def prediction_layers(pred: ClickPrediction, simplify: Optional[float] = None):
    """(masks, rboxes) GeoDataFrames of a :func:`predict_geo_clicks` result."""
    geo = pred.meta['geo']
    return build_layers(
        pred.masks,
        pred.offsets,
        pred.scores,
        pred.rboxes,
        pred.valid,
        geo['table'],
        geo['transform'],
        geo['crs'],
        simplify,
    )


def _sha1_arrays(*arrays) -> str:
    digest = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(str((a.dtype, a.shape)).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def model_fingerprint(model) -> str:
    """A cheap hash of a model's weights (shapes and the first values of every tensor): tells
    one set of weights from another without reading gigabytes."""
    digest = hashlib.sha1()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().reshape(-1)[:64].float().cpu().numpy().tobytes())
    return digest.hexdigest()


class GeoSegmenter:
    """Resumable scene segmentation to GIS layers with a :class:`PointSAMInferencer`.

    Args:
        inferencer: the model (its window size, overlap, rbox method and click negatives).
        chunk_windows: windows per recorded chunk (the resume granularity).
        description: how the weights were made, recorded in the outputs.
    """

    def __init__(self, inferencer, chunk_windows: int = 4, description: str = '') -> None:
        if chunk_windows < 1:
            raise ValueError(f'chunk_windows must be >= 1, got {chunk_windows}')
        self.inferencer = inferencer
        self.chunk_windows = int(chunk_windows)
        self.description = description

    def run(
        self,
        raster,
        clicks,
        out_dir: str,
        fmt: str = 'gpkg',
        simplify: Optional[float] = None,
        label_raster: bool = False,
        resume: bool = True,
        progress: bool = True,
        stem: Optional[str] = None,
        **options,
    ) -> dict:
        """Segment every object of ``clicks`` on ``raster`` and write the layers to ``out_dir``.

        ``options``: as :func:`predict_geo_clicks`. Returns a summary (paths, counts, times).
        """
        start = time.perf_counter()
        source, located = open_scene(raster, clicks, **options)
        for name in located.class_names():
            check_class_name(name)  # DOTA lines: fail before the long work, not after
        stem = stem or osp.splitext(osp.basename(source.path))[0]
        prompts, labels = located.prompts()
        inf = self.inferencer
        pos = labels == 1
        anchors = (prompts * pos[..., None]).sum(1) / np.maximum(pos.sum(1, keepdims=True), 1)
        if inf.click_negatives and len(prompts) > 1:
            prompts, labels = add_click_negatives(prompts, labels, anchors, inf.click_negatives)
        height, width = source.shape
        windows, window_index = plan_windows(
            height, width, anchors, inf.window_size, inf.window_overlap
        )
        settings = dict(
            raster=dict(
                {k: v for k, v in source.describe().items() if k != 'crs_wkt'},
                size=os.path.getsize(source.path) if osp.isfile(source.path) else None,
                mtime=os.path.getmtime(source.path) if osp.isfile(source.path) else None,
            ),
            prompts_sha1=_sha1_arrays(prompts, labels),
            model_sha1=model_fingerprint(inf.model),
            window_size=inf.window_size,
            window_overlap=inf.window_overlap,
            rbox_method=inf.rbox_method,
            click_negatives=inf.click_negatives,
            chunk_windows=self.chunk_windows,
        )
        records = ChunkProgress(osp.join(out_dir, '.progress', stem), settings, resume=resume)
        num = len(prompts)
        chunks = [
            np.flatnonzero((window_index // self.chunk_windows) == k)
            for k in range((len(windows) + self.chunk_windows - 1) // self.chunk_windows)
        ]
        skipped = sum(len(idx) for k, idx in enumerate(chunks) if records.done(k))
        if skipped:
            print_log(
                f'geo segment: resuming in {out_dir}: {skipped} of {num} objects done already',
                logger='current',
            )
        bar = tqdm(
            total=num,
            initial=skipped,
            unit='click',
            desc=f'segment {stem}',
            disable=not progress,
            dynamic_ncols=True,
        )
        infer_s = 0.0
        for k, idx in enumerate(chunks):
            if records.done(k) or not len(idx):
                continue
            t0 = time.perf_counter()
            pred = inf(source, prompts[idx], labels[idx], click_negatives=0)
            infer_s += time.perf_counter() - t0
            records.save(
                k,
                dict(
                    index=idx,
                    offsets=pred.offsets,
                    scores=pred.scores,
                    rboxes=pred.rboxes,
                    valid=pred.valid,
                    **pack_masks(pred.masks),
                ),
            )
            bar.update(len(idx))
        bar.close()

        masks = [None] * num
        offsets = np.zeros((num, 2), np.int64)
        scores = np.zeros(num, np.float32)
        rboxes = np.zeros((num, 5))
        valid = np.zeros(num, bool)
        for k, idx in enumerate(chunks):
            if not len(idx):
                continue
            rec = records.load(k)
            for j, mask in zip(rec['index'], unpack_masks(rec['mask_shapes'], rec['mask_bits'])):
                masks[j] = mask
            offsets[rec['index']] = rec['offsets']
            scores[rec['index']] = rec['scores']
            rboxes[rec['index']] = rec['rboxes']
            valid[rec['index']] = rec['valid']
        table = object_table(located.objects, labels)
        return write_outputs(
            self.description,
            source,
            located,
            out_dir,
            stem,
            masks,
            offsets,
            scores,
            rboxes,
            valid,
            table,
            fmt=fmt,
            simplify=simplify,
            label_raster=label_raster,
            settings=settings,
            extra=dict(
                num_windows=len(windows),
                skipped=skipped,
                inference_s=infer_s,
                total_s=time.perf_counter() - start,
            ),
        )


def write_outputs(
    description: str,
    source,
    located: GeoClicks,
    out_dir,
    stem,
    masks,
    offsets,
    scores,
    rboxes,
    valid,
    table,
    fmt,
    simplify,
    label_raster,
    settings,
    extra,
) -> dict:
    """Write every output of a finished run (each atomically; the run json last)."""
    meta = dict(
        tool='mmpointsam geo segment',
        weights=description,
        raster=source.describe(),
        clicks=dict(
            source=located.source,
            crs=located.layer_crs,
            num_features=len(located.feature_ids),
            num_objects=len(located.objects),
        ),
        simplify=simplify,
        heading='degrees clockwise from grid north (+y of the CRS) of the long side, [0, 180)',
    )
    mask_layer, rbox_layer = build_layers(
        masks, offsets, scores, rboxes, valid, table, source.transform, source.crs, simplify
    )
    layers = (
        {'rboxes': rbox_layer} if mask_layer is None else dict(masks=mask_layer, rboxes=rbox_layer)
    )
    paths = write_layers(layers, out_dir, stem, fmt, metadata=meta)
    outputs = dict(layers=paths)
    if label_raster:
        if masks is None:
            raise ValueError('a label raster needs masks (not a boxes-only run)')
        outputs['label_raster'] = write_label_raster(
            osp.join(out_dir, f'{stem}_labels.tif'), masks, offsets, scores, valid, source
        )
    outputs.update(write_pixel_rboxes(out_dir, stem, source, rboxes, valid, scores, table))
    summary = dict(
        objects=len(table),
        empty_masks=int((~np.asarray(valid, bool)).sum()),
        **extra,
        outputs=outputs,
    )
    atomic_dump_json(
        dict(meta, settings=settings, summary=summary),
        osp.join(out_dir, f'{stem}_run.json'),
        indent=1,
    )
    print_log(
        f'geo segment: {summary["objects"]} objects ({summary["empty_masks"]} empty masks) '
        f'-> {", ".join(sorted(set(paths.values())))}',
        logger='current',
    )
    return summary


def write_pixel_rboxes(out_dir, stem, source, rboxes, valid, scores, table) -> dict:
    """The rotated boxes in scene pixels for MMRotate: COCO json (4-corner polygons, one
    scene image) and the scene's DOTA txt; empty masks are listed, not boxed."""
    names = []
    for row in table:
        if row['class'] not in names:
            names.append(row['class'])
    cat_ids = {n: i + 1 for i, n in enumerate(names)}
    anns, empty = [], []
    for i, row in enumerate(table):
        if valid[i]:
            anns.append(
                rbox_to_coco_ann(
                    rboxes[i],
                    row['raster_id'],
                    0,
                    cat_ids[row['class']],
                    score=scores[i],
                    click_id=row['click_id'],
                )
            )
        else:
            empty.append(dict(id=row['raster_id'], click_id=row['click_id']))
    coco_path = osp.join(out_dir, f'{stem}_rboxes_pixel.json')
    atomic_dump_json(
        dict(
            info=dict(
                description='rotated boxes in scene pixels (mmpointsam geo segment)',
                empty_instances=empty,
            ),
            images=[
                dict(
                    id=0,
                    file_name=osp.basename(source.path),
                    width=source.width,
                    height=source.height,
                )
            ],
            categories=[dict(id=i, name=n) for n, i in cat_ids.items()],
            annotations=anns,
        ),
        coco_path,
    )
    dota_path = osp.join(out_dir, 'annfiles', f'{stem}.txt')
    keep = np.flatnonzero(np.asarray(valid, bool))
    dump_dota_txt(
        dota_path,
        rbox_to_corners(rboxes[keep]) if len(keep) else np.zeros((0, 4, 2)),
        [table[i]['class'] for i in keep],
    )
    return dict(coco=coco_path, dota=dota_path)
