"""Point labels as COCO json, and sampling them from ground-truth masks (seeded).

Format: a COCO json (``images``, ``categories``) whose annotations carry, instead of masks,
``points`` [[x, y], ...] and optionally ``point_labels`` [1 | 0, ...] (1 positive, the default;
0 negative). Points are pixel indices (x = column, y = row), as ``SamplePointPrompts`` samples
them; SAM's prompt encoder adds the half pixel. Annotation ids are kept from the ground truth, so
pseudo labels made from the points can be paired with the instances they came from.
"""
import json
import os.path as osp
from collections import defaultdict
from typing import Optional

import numpy as np
import pycocotools.mask as mask_utils
from mmengine.logging import print_log

from mmpointsam.fileio import atomic_dump_json
from .transforms import SamplePointPrompts


def coco_ann_to_mask(ann: dict, height: int, width: int) -> np.ndarray:
    """Binary mask (H, W) of a COCO polygon or RLE segmentation (mmdet's ``poly2mask``)."""
    seg = ann['segmentation']
    if isinstance(seg, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    elif isinstance(seg['counts'], list):
        rle = mask_utils.frPyObjects(seg, height, width)
    else:
        rle = seg
    return mask_utils.decode(rle).astype(bool)


def sample_point_labels(gt_json: str,
                        out_json: str,
                        num_points: int = 1,
                        num_neg_points: int = 0,
                        seed: int = 0) -> dict:
    """Write a point-label json with points sampled inside (and outside) each ground-truth mask.

    Sampling is ``SamplePointPrompts``' with its ``seed``: the points of an image depend only on
    the seed and the image's ``file_name``, wherever the data lies. Crowd annotations and masks
    that cover no pixel are skipped and counted.

    Returns:
        A summary: numbers of images, points labels and skipped annotations.
    """
    if not osp.isfile(gt_json):
        raise FileNotFoundError(f'ground-truth json not found: {gt_json}')
    with open(gt_json) as f:
        gt = json.load(f)
    sampler = SamplePointPrompts(num_points=num_points, num_neg_points=num_neg_points, seed=seed)
    per_image = defaultdict(list)
    for ann in gt['annotations']:
        per_image[ann['image_id']].append(ann)
    out_anns, skipped = [], defaultdict(int)
    for img in gt['images']:
        anns = []
        for ann in per_image.get(img['id'], []):
            if ann.get('iscrowd', 0):
                skipped['crowd'] += 1
                continue
            if not ann.get('segmentation'):
                raise ValueError(f'{gt_json}: annotation {ann.get("id")} of {img["file_name"]} has '
                                 'no segmentation to sample points from')
            anns.append(ann)
        masks = np.stack([coco_ann_to_mask(a, img['height'], img['width']) for a in anns]) \
            if anns else np.zeros((0, img['height'], img['width']), dtype=bool)
        nonempty = masks.reshape(len(masks), -1).any(axis=1)
        skipped['empty mask'] += int((~nonempty).sum())
        anns, masks = [a for a, k in zip(anns, nonempty) if k], masks[nonempty]
        if not anns:
            continue
        results = sampler.transform(dict(gt_masks=masks, img_path=img['file_name']))
        for ann, pts, lbs in zip(anns, results['gt_points'], results['gt_point_labels']):
            out_anns.append(dict(id=ann['id'], image_id=img['id'], category_id=ann['category_id'],
                                 points=pts.tolist(), point_labels=lbs.tolist()))
    info = dict(description=f'point labels sampled from {osp.basename(gt_json)}',
                source=osp.abspath(gt_json), seed=seed, num_points=num_points,
                num_neg_points=num_neg_points,
                point_convention='pixel index [column, row]; SAM adds the half pixel')
    atomic_dump_json(dict(info=info, images=gt['images'], categories=gt['categories'],
                          annotations=out_anns), out_json)
    if skipped:
        print_log(f'sample_point_labels: skipped {dict(skipped)} annotations of {gt_json}',
                  logger='current', level=30)
    return dict(num_images=len(gt['images']), num_instances=len(out_anns),
                skipped=dict(skipped), out=out_json)


def load_point_labels(path: str, where: Optional[str] = None) -> dict:
    """Read and check a point-label json; returns the parsed json.

    Raises:
        ValueError: naming the file and annotation of a malformed entry.
    """
    where = where or path
    with open(path) as f:
        data = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{where}: not a point-label json (no "{key}")')
    for ann in data['annotations']:
        check_point_ann(ann, where)
    return data


def check_point_ann(ann: dict, where: str) -> None:
    """Raise ValueError if a point-label annotation is malformed."""
    fault = None
    points = ann.get('points')
    if not isinstance(points, list) or not points:
        fault = 'no "points" [[x, y], ...]'
    elif not all(isinstance(p, (list, tuple)) and len(p) == 2 and all(
            isinstance(v, (int, float)) and np.isfinite(v) for v in p) for p in points):
        fault = f'"points" must be [[x, y], ...] of finite numbers, got {points!r}'
    else:
        labels = ann.get('point_labels', [1] * len(points))
        if not isinstance(labels, list) or len(labels) != len(points) or any(
                lb not in (0, 1) for lb in labels):
            fault = f'"point_labels" must be one 1/0 per point, got {labels!r}'
        elif 1 not in labels:
            fault = 'no positive point (label 1)'
    if fault:
        raise ValueError(f'{where}: annotation id {ann.get("id")} (image id '
                         f'{ann.get("image_id")}): {fault}')
