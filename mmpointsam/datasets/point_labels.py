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
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils
from mmengine.logging import print_log

from mmpointsam.fileio import atomic_dump_json
from mmpointsam.utils.input_checks import (
    FaultReport,
    InputError,
    check_coco_json,
    coco_schema_faults,
    is_int,
    is_number,
)

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


def select_images(
    images: List[dict],
    img_ids: Optional[Sequence[int]] = None,
    max_images: Optional[int] = None,
    where: str = '',
) -> List[dict]:
    """The images (COCO dicts) whose id is in ``img_ids`` (in the file's order), then the first
    ``max_images`` of them: a subset for a quick run. An id not in the file is an error."""
    if img_ids is not None:
        wanted = set(img_ids)
        unknown = sorted(wanted - {img['id'] for img in images})
        if unknown:
            raise ValueError(f'{where}: image ids {unknown} are not in the file')
        images = [img for img in images if img['id'] in wanted]
    if max_images is not None:
        if max_images < 1:
            raise ValueError(f'max_images must be >= 1, got {max_images}')
        images = images[:max_images]
    return list(images)


def _sampling_masks(gt_json: str, img: dict, anns: List[dict], skipped: dict):
    """The annotations of one image that points can be sampled from, and their masks: crowd
    annotations and masks that cover no pixel are left out and counted in ``skipped``."""
    kept = []
    for ann in anns:
        if ann.get('iscrowd', 0):
            skipped['crowd'] += 1
            continue
        if not ann.get('segmentation'):
            raise ValueError(
                f'{gt_json}: annotation {ann.get("id")} of {img["file_name"]} has '
                'no segmentation to sample points from'
            )
        kept.append(ann)
    masks = (
        np.stack([coco_ann_to_mask(a, img['height'], img['width']) for a in kept])
        if kept
        else np.zeros((0, img['height'], img['width']), dtype=bool)
    )
    nonempty = masks.reshape(len(masks), -1).any(axis=1)
    if not nonempty.all():
        skipped['empty mask'] += int((~nonempty).sum())
    return [a for a, k in zip(kept, nonempty) if k], masks[nonempty]


def sample_point_labels(
    gt_json: str,
    out_json: str,
    num_points: int = 1,
    num_neg_points: int = 0,
    seed: int = 0,
    img_ids: Optional[Sequence[int]] = None,
    max_images: Optional[int] = None,
) -> dict:
    """Write a point-label json with points sampled inside (and outside) each ground-truth mask.

    Sampling is ``SamplePointPrompts``' with its ``seed``: the points of an image depend only on
    the seed and the image's ``file_name``, wherever the data lies. Crowd annotations and masks
    that cover no pixel are skipped and counted.

    ``img_ids`` / ``max_images`` keep a subset of the images (see :func:`select_images`).

    Returns:
        A summary: numbers of images, points labels and skipped annotations.
    """
    if not osp.isfile(gt_json):
        raise FileNotFoundError(f'ground-truth json not found: {gt_json}')
    report = FaultReport()  # ids, image and category references: all faults at once
    gt = check_coco_json(report, gt_json)
    report.raise_if_any()
    gt['images'] = select_images(gt['images'], img_ids, max_images, gt_json)
    sampler = SamplePointPrompts(num_points=num_points, num_neg_points=num_neg_points, seed=seed)
    per_image = defaultdict(list)
    for ann in gt['annotations']:
        per_image[ann['image_id']].append(ann)
    out_anns, skipped = [], defaultdict(int)
    for img in gt['images']:
        anns, masks = _sampling_masks(gt_json, img, per_image.get(img['id'], []), skipped)
        if not anns:
            continue
        results = sampler.transform(dict(gt_masks=masks, img_path=img['file_name']))
        for ann, pts, lbs in zip(anns, results['gt_points'], results['gt_point_labels']):
            out_anns.append(
                dict(
                    id=ann['id'],
                    image_id=img['id'],
                    category_id=ann['category_id'],
                    points=pts.tolist(),
                    point_labels=lbs.tolist(),
                )
            )
    info = dict(
        description=f'point labels sampled from {osp.basename(gt_json)}',
        source=osp.abspath(gt_json),
        seed=seed,
        num_points=num_points,
        num_neg_points=num_neg_points,
        point_convention='pixel index [column, row]; SAM adds the half pixel',
    )
    atomic_dump_json(
        dict(info=info, images=gt['images'], categories=gt['categories'], annotations=out_anns),
        out_json,
    )
    if any(skipped.values()):
        print_log(
            f'sample_point_labels: skipped {dict(skipped)} annotations of {gt_json}',
            logger='current',
            level=30,
        )
    return dict(
        num_images=len(gt['images']),
        num_instances=len(out_anns),
        skipped=dict(skipped),
        out=out_json,
    )


def load_point_labels(path: str, where: Optional[str] = None) -> dict:
    """Read and check a point-label json (:func:`point_label_faults`); returns the parsed json.

    Raises:
        ValueError: (an ``InputError``) listing every malformed entry with the file, the record
            and the value.
    """
    where = where or path
    with open(path, encoding='utf-8-sig') as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise InputError(f'{where}: not a point-label json (a json {type(data).__name__})')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise InputError(f'{where}: not a point-label json (no list "{key}")')
    report = FaultReport()
    for record, fault in point_label_faults(data):
        report.add(where, fault, record)
    report.raise_if_any()
    return data


def point_label_faults(data: dict) -> List[Tuple[Optional[str], str]]:
    """Every fault of a parsed point-label json as (record, fault): COCO id structure (integer,
    unique ids; annotations of listed images and categories; :func:`coco_schema_faults`),
    malformed points or labels, points outside their image (pixel indices 0 <= x < W,
    0 <= y < H: a point outside would still prompt SAM and silently become a wrong box), and
    ``difficult`` flags other than 0/1."""
    faults = coco_schema_faults(data)
    images = {
        img['id']: img
        for img in data['images']
        if isinstance(img, dict) and is_int(img.get('id')) and _sized(img)
    }
    for img in images.values():
        if 'background_points' in img:
            bg = img['background_points']
            record = f'image {img.get("file_name")!r} (id {img["id"]})'
            if not _point_list(bg, allow_empty=True):
                faults.append((record, f'"background_points" must be [[x, y], ...], got {bg!r}'))
            else:
                outside = _outside(bg, img)
                if outside:
                    faults.append(
                        (
                            record,
                            f'background_points {outside} lie outside the '
                            f'{img["width"]}x{img["height"]} image',
                        )
                    )
    for ann in data['annotations']:
        if not isinstance(ann, dict):
            continue  # reported by coco_schema_faults
        fault = point_ann_fault(ann)
        if fault:
            faults.append(
                (f'annotation id {ann.get("id")} (image id {ann.get("image_id")})', fault)
            )
            continue
        img = images.get(ann.get('image_id'))
        if img is None:
            continue
        outside = _outside(ann['points'], img)
        if outside:
            width, height = img['width'], img['height']
            faults.append(
                (
                    f'annotation id {ann.get("id")} (image {img.get("file_name")!r}, id '
                    f'{img.get("id")})',
                    f'points {outside} lie outside the {width}x{height} image '
                    f'(pixel indices need 0 <= x < {width}, 0 <= y < {height})',
                )
            )
    return faults


def _sized(img: dict) -> bool:
    return all(is_number(img.get(k)) and img.get(k) > 0 for k in ('width', 'height'))


def _point_list(points, allow_empty: bool = False) -> bool:
    return (
        isinstance(points, list)
        and (allow_empty or bool(points))
        and all(
            isinstance(p, (list, tuple)) and len(p) == 2 and all(is_number(v) for v in p)
            for p in points
        )
    )


def _outside(points, img: dict) -> list:
    width, height = img['width'], img['height']
    return [[x, y] for x, y in points if not (0 <= x < width and 0 <= y < height)]


def point_ann_fault(ann: dict) -> Optional[str]:
    """What is malformed in one point-label annotation's points, labels or flags, or None."""
    points = ann.get('points')
    if not isinstance(points, list) or not points:
        return 'no "points" [[x, y], ...]'
    if not _point_list(points):
        return f'"points" must be [[x, y], ...] of finite numbers, got {points!r}'
    labels = ann.get('point_labels', [1] * len(points))
    if (
        not isinstance(labels, list)
        or len(labels) != len(points)
        or any(not is_int(lb) or lb not in (0, 1) for lb in labels)
    ):
        return f'"point_labels" must be one 1/0 per point, got {labels!r}'
    if 1 not in labels:
        return 'no positive point (label 1)'
    if 'difficult' in ann and not (is_int(ann['difficult']) and ann['difficult'] in (0, 1)):
        return f'"difficult" must be 0 or 1, got {ann["difficult"]!r}'
    return None
