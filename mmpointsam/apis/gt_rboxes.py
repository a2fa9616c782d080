"""Ground-truth rotated boxes: the minimum-area rectangles of the ground-truth instance masks."""

import os.path as osp
from collections import defaultdict

import numpy as np
from tqdm import tqdm

from mmpointsam.datasets.point_labels import coco_ann_to_mask
from mmpointsam.fileio import RBoxLabelWriter, rbox_to_coco_ann
from mmpointsam.structures import RBOX_METHODS, mask_to_rbox, points_to_rbox
from mmpointsam.utils.input_checks import FaultReport, check_coco_json

GT_SOURCES = ('mask', 'polygon')


def _annotation_rbox(gt_json: str, ann: dict, img: dict, source: str, method: str):
    """The rotated box of one annotation (None: its mask covers no pixel): of the rasterised
    mask (``'mask'``), or the min-area rectangle of its polygons' vertices (``'polygon'``)."""
    if source == 'mask':
        return mask_to_rbox(coco_ann_to_mask(ann, img['height'], img['width']), method)
    if not isinstance(ann.get('segmentation'), list):
        raise ValueError(
            f'{gt_json}: annotation {ann.get("id")} has no polygon (RLE masks need source="mask")'
        )
    vertices = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in ann['segmentation']]
    return points_to_rbox(np.concatenate(vertices))


def gt_rboxes(
    gt_json: str, out_dir: str, source: str = 'mask', method: str = 'all', progress: bool = True
) -> dict:
    """Write the rotated boxes of a COCO instance json in both label formats.

    Args:
        gt_json: COCO json with polygon (or RLE) masks.
        out_dir: output folder (``labels.json`` and ``annfiles/``, see ``RBoxLabelWriter``).
        source: ``'mask'``: rasterise each mask and take :func:`mask_to_rbox` (pixel-corner
            geometry, the path pseudo labels take); ``'polygon'``: min-area rectangle of the
            polygon vertices (what MMRotate's ``ConvertMask2BoxType`` computes).
        method: for ``'mask'``: ``'all'`` pixels (default: whole object) or ``'largest'``
            component.

    Returns:
        A summary (images, boxes, instances without a box, output paths).
    """
    if source not in GT_SOURCES:
        raise ValueError(f'unknown source {source!r}; choose from {GT_SOURCES}')
    if method not in RBOX_METHODS:
        raise ValueError(f'unknown mask -> rbox method {method!r}; choose from {RBOX_METHODS}')
    report = FaultReport()  # ids, image and category references: all faults at once
    gt = check_coco_json(report, gt_json)
    report.raise_if_any()
    per_image = defaultdict(list)
    for ann in gt['annotations']:
        per_image[ann['image_id']].append(ann)
    settings = dict(source=source, method=method, gt_json=osp.abspath(gt_json))
    writer = RBoxLabelWriter(out_dir, gt['images'], gt['categories'], settings, resume=False)
    for img in tqdm(gt['images'], unit='img', desc=f'gt rboxes ({source})', disable=not progress):
        anns, empty = [], []
        for ann in per_image.get(img['id'], []):
            if ann.get('iscrowd', 0):
                continue
            rbox = _annotation_rbox(gt_json, ann, img, source, method)
            if rbox is None:
                empty.append(dict(id=ann['id'], category_id=ann['category_id']))
            else:
                # DOTA's difficult flag (dota_to_gt.py) travels to the json and the DOTA txt
                extra = {'difficult': ann['difficult']} if 'difficult' in ann else {}
                anns.append(
                    rbox_to_coco_ann(rbox, ann['id'], img['id'], ann['category_id'], **extra)
                )
        writer.write_image(img, anns, empty)
    result = writer.finalize(
        info=dict(description=f'ground-truth rotated boxes ({source}) of {osp.basename(gt_json)}')
    )
    return result
