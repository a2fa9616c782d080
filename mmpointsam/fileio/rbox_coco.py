"""Rotated boxes as COCO json: ``segmentation`` is the 4-corner polygon [[x1, y1, ..., x4, y4]].

``mmdet.CocoDataset`` + ``LoadAnnotations(with_mask=True, poly2mask=False)`` + MMRotate's
``ConvertMask2BoxType(box_type='rbox')`` read such files as rotated boxes; ``bbox`` is the
axis-aligned box of the corners (xywh), ``area`` the rotated box's area, ``score`` its confidence.
"""

from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np

from mmpointsam.structures import corners_to_rbox, rbox_to_corners, rbox_to_hbox

from .coco_json import load_coco_json

DECIMALS = 3


def _rounded(values: np.ndarray) -> List[float]:
    """Values rounded to DECIMALS as plain floats, with -0.0 written as 0.0."""
    # + 0.0 turns -0.0 into 0.0
    return [float(v) for v in np.round(values, DECIMALS) + 0.0]


def rbox_to_coco_ann(
    rbox: np.ndarray,
    ann_id: int,
    image_id: int,
    category_id: int,
    score: Optional[float] = None,
    **extra,
) -> dict:
    """A COCO annotation for one rbox (5,); ``extra`` keys are copied into it."""
    rbox = np.asarray(rbox, dtype=np.float64)
    corners = rbox_to_corners(rbox).reshape(-1)
    ann = dict(
        id=int(ann_id),
        image_id=int(image_id),
        category_id=int(category_id),
        segmentation=[_rounded(corners)],
        bbox=_rounded(rbox_to_hbox(rbox)),
        area=round(float(rbox[2] * rbox[3]), DECIMALS),
        iscrowd=0,
    )
    if score is not None:
        ann['score'] = round(float(score), 5)
    ann.update(extra)
    return ann


def coco_ann_to_rbox(ann: dict, where: str = '') -> np.ndarray:
    """le90 rbox (5,) of an annotation written by :func:`rbox_to_coco_ann`."""
    seg = ann.get('segmentation')
    if not (isinstance(seg, list) and len(seg) == 1 and len(seg[0]) == 8):
        raise ValueError(
            f'{where}annotation id {ann.get("id")}: segmentation is not one 4-corner '
            'polygon [[x1, y1, ..., x4, y4]]; for ground-truth masks write rotated '
            'boxes first (tools/dataset_converters/gt_rboxes.py)'
        )
    return corners_to_rbox(np.asarray(seg[0], dtype=np.float64).reshape(4, 2))


def load_rbox_coco(path: str) -> dict:
    """Read a rotated-box COCO json.

    Returns:
        dict with ``images`` (list, file order), ``categories`` (list), ``info`` and ``boxes``:
        image id -> dict of ``rboxes`` (K, 5) le90, ``category_ids``, ``scores`` (1 where the
        file has none) and ``ids`` (K,) arrays.
    """
    data = load_coco_json(path, 'rotated-box json')
    per_image: Dict[int, List[dict]] = defaultdict(list)
    for ann in data['annotations']:
        per_image[ann['image_id']].append(ann)
    boxes = {}
    for img in data['images']:
        anns = per_image.get(img['id'], [])
        boxes[img['id']] = dict(
            rboxes=np.array(
                [coco_ann_to_rbox(a, f'{path}: ') for a in anns], dtype=np.float64
            ).reshape(-1, 5),
            category_ids=np.array([a['category_id'] for a in anns], dtype=np.int64),
            scores=np.array([a.get('score', 1.0) for a in anns], dtype=np.float64),
            ids=np.array([a['id'] for a in anns], dtype=np.int64),
        )
    return dict(
        images=data['images'], categories=data['categories'], info=data.get('info', {}), boxes=boxes
    )


def predictions_to_coco_anns(
    image_id: int,
    rboxes: np.ndarray,
    valid: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    ann_ids: np.ndarray,
    categories: List[dict],
):
    """COCO rbox annotations of one image's per-instance predictions, and the instances without a
    box (empty masks) as ``dict(id, category_id, score)``.

    ``labels`` index ``categories``; ``ann_ids`` are kept as annotation ids (the point labels')."""
    anns, empty = [], []
    for rbox, ok, label, score, ann_id in zip(rboxes, valid, labels, scores, ann_ids):
        category_id = int(categories[int(label)]['id'])
        if ok:
            anns.append(rbox_to_coco_ann(rbox, ann_id, image_id, category_id, score=score))
        else:
            empty.append(dict(id=int(ann_id), category_id=category_id, score=float(score)))
    return anns, empty
