"""Annotation-file checks: point-label, COCO instance and rotated-box json, DOTA labelTxt
folders (each image file through :mod:`.images`)."""

import glob
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from .images import IMG_EXTS, check_images, find_image, image_fault
from .report import FaultReport
from .values import duplicates, is_int, is_number, is_size


def _load_json(report: FaultReport, path: str, what: str) -> Optional[dict]:
    if not osp.isfile(path):
        report.add(path, f'{what} not found')
        return None
    try:
        with open(path, encoding='utf-8-sig') as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        report.add(path, f'not a valid json file ({e})')
        return None
    if not isinstance(data, dict):
        report.add(path, f'not a {what} (a json {type(data).__name__}, not an object)')
        return None
    missing = [
        k for k in ('images', 'annotations', 'categories') if not isinstance(data.get(k), list)
    ]
    if missing:
        report.add(path, f'not a {what}: no list {missing}')
        return None
    report.count(what)
    return data


def coco_schema_faults(data: dict) -> List[Tuple[Optional[str], str]]:
    """(record, fault) of the id structure every COCO-style file shares: integer, unique image,
    annotation and category ids; annotations of images and categories the file lists; images
    with a file name and a positive integer size."""
    faults = []
    cat_ids = []
    for k, cat in enumerate(data['categories']):
        if not isinstance(cat, dict) or not is_int(cat.get('id')):
            value = cat.get('id') if isinstance(cat, dict) else cat
            faults.append((f'category #{k}', f'id must be an integer, got {value!r}'))
            continue
        cat_ids.append(cat['id'])
    for cid, n in duplicates(cat_ids).items():
        faults.append((None, f'category id {cid!r} appears {n} times (ids must be unique)'))
    img_ids, names = [], []
    for k, img in enumerate(data['images']):
        if not isinstance(img, dict):
            faults.append((f'image #{k}', f'not an object: {img!r}'))
            continue
        record = f'image #{k} ({img.get("file_name")!r})'
        if not is_int(img.get('id')):
            faults.append((record, f'id must be an integer, got {img.get("id")!r}'))
        else:
            img_ids.append(img['id'])
        if not isinstance(img.get('file_name'), str) or not img.get('file_name'):
            faults.append((record, f'no file_name (got {img.get("file_name")!r})'))
        else:
            names.append(img['file_name'])
        w, h = img.get('width'), img.get('height')
        if not (is_size(w) and is_size(h)):
            faults.append(
                (record, f'width and height must be positive whole numbers, got {w!r} x {h!r}')
            )
    for iid, n in duplicates(img_ids).items():
        faults.append((None, f'image id {iid!r} appears {n} times (ids must be unique)'))
    for name, n in duplicates(names).items():
        faults.append((None, f'file_name {name!r} appears in {n} images'))
    images, cats = set(img_ids), set(cat_ids)
    ann_ids = []
    for k, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict):
            faults.append((f'annotation #{k}', f'not an object: {ann!r}'))
            continue
        record = f'annotation id {ann.get("id")!r} (#{k})'
        if not is_int(ann.get('id')):
            faults.append((record, f'id must be an integer, got {ann.get("id")!r}'))
        else:
            ann_ids.append(ann['id'])
        image_id = ann.get('image_id')
        if not is_int(image_id):
            faults.append((record, f'image_id must be an integer, got {image_id!r}'))
        elif image_id not in images:
            faults.append((record, f'image_id {image_id} is not the id of an image of the file'))
        if ann.get('category_id') not in cats:
            faults.append(
                (record, f'category_id {ann.get("category_id")!r} is not in "categories"')
            )
    for aid, n in duplicates(ann_ids).items():
        faults.append((None, f'annotation id {aid!r} appears {n} times (ids must be unique)'))
    return faults


def check_point_json(
    report: FaultReport,
    path: str,
    img_dir: Optional[str] = None,
    img_ids: Optional[Sequence[int]] = None,
    annotated_only: bool = False,
) -> Optional[dict]:
    """Check a point-label json (schema: :func:`point_label_faults`) and, with ``img_dir``, its
    images (only ``img_ids`` if given; only images with points if ``annotated_only``)."""
    from mmpointsam.datasets.point_labels import point_label_faults

    data = _load_json(report, path, 'point-label json')
    if data is None:
        return None
    faults = point_label_faults(data)
    for record, fault in faults:
        report.add(path, fault, record)
    if img_dir is not None:
        images = [i for i in data['images'] if isinstance(i, dict)]
        if img_ids is not None:
            images = [i for i in images if i.get('id') in set(img_ids)]
        if annotated_only:
            used = {a.get('image_id') for a in data['annotations'] if isinstance(a, dict)}
            images = [i for i in images if i.get('id') in used]
        check_images(report, path, images, img_dir)
    return data


def check_coco_json(
    report: FaultReport,
    path: str,
    img_dir: Optional[str] = None,
    classes: Optional[Sequence[str]] = None,
    masks: bool = False,
) -> Optional[dict]:
    """Check a COCO instance json: the id structure (:func:`coco_schema_faults`), boxes; with
    ``masks`` the polygons as :class:`CocoInstanceDataset` checks them; with ``classes`` that
    every annotation's category is one of them; with ``img_dir`` the image files."""
    data = _load_json(report, path, 'COCO json')
    if data is None:
        return None
    for record, fault in coco_schema_faults(data):
        report.add(path, fault, record)
    images = {i.get('id'): i for i in data['images'] if isinstance(i, dict)}
    names = {c.get('id'): c.get('name') for c in data['categories'] if isinstance(c, dict)}
    if classes is not None:
        unknown = sorted({str(n) for n in names.values()} - set(classes))
        used = {a.get('category_id') for a in data['annotations'] if isinstance(a, dict)}
        used_unknown = [n for cid, n in names.items() if n in unknown and cid in used]
        if used_unknown:
            report.add(
                path,
                f'annotations of categories {used_unknown}, which are not among the '
                f"dataset's classes {tuple(classes)}",
            )
    if masks:
        from mmpointsam.datasets.coco_instance import CocoInstanceDataset

        for ann in data['annotations']:
            if not isinstance(ann, dict) or ann.get('image_id') not in images:
                continue
            img = images[ann['image_id']]
            w, h = img.get('width'), img.get('height')
            if not (is_number(w) and is_number(h)):
                continue
            record = (
                f'image {img.get("file_name")!r} (image id {img.get("id")}), '
                f'annotation id {ann.get("id")}'
            )
            for fault in CocoInstanceDataset.annotation_faults(ann, w, h):
                report.add(path, fault, record)
    if img_dir is not None:
        check_images(report, path, list(images.values()), img_dir)
    return data


def check_rbox_json(report: FaultReport, path: str) -> Optional[dict]:
    """Check a rotated-box COCO json (``segmentation`` one 4-corner polygon per annotation)."""
    data = _load_json(report, path, 'rotated-box json')
    if data is None:
        return None
    for record, fault in coco_schema_faults(data):
        report.add(path, fault, record)
    for ann in data['annotations']:
        if not isinstance(ann, dict):
            continue
        seg = ann.get('segmentation')
        if not (
            isinstance(seg, list)
            and len(seg) == 1
            and isinstance(seg[0], list)
            and len(seg[0]) == 8
            and all(is_number(v) for v in seg[0])
        ):
            report.add(
                path,
                'segmentation is not one 4-corner polygon [[x1, y1, ..., x4, y4]] (for masks or '
                'DOTA quadrilaterals, write rotated boxes first: gt_rboxes.py)',
                f'annotation id {ann.get("id")!r}',
            )
    return data


def check_dota_dir(
    report: FaultReport, label_dir: str, img_dir: Optional[str], classes=None, img_suffix=None
) -> None:
    """Check a DOTA ``labelTxt`` folder: every line parses, classes are known, each txt has its
    image (``img_suffix``, or any image extension) and that image reads."""
    from mmpointsam.fileio.dota_txt import DotaTxtError, load_dota_txt

    if not osp.isdir(label_dir):
        report.add(label_dir, 'DOTA label folder not found')
        return
    txts = sorted(glob.glob(osp.join(label_dir, '*.txt')))
    if not txts:
        report.add(label_dir, 'no DOTA label files (*.txt) in the folder')
    for txt in txts:
        try:
            _, names, _ = load_dota_txt(txt)
        except DotaTxtError as e:
            for line, fault in e.faults:
                report.add(txt, fault, f'line {line}')
            names = []
        if classes is not None:
            for name in sorted(set(names) - set(classes)):
                report.add(txt, f'class {name!r} is not one of {tuple(classes)}')
        if img_dir is not None:
            stem = osp.splitext(osp.basename(txt))[0]
            path = find_image(img_dir, stem, img_suffix)
            exts = img_suffix or '|'.join(e[1:] for e in IMG_EXTS)
            fault = image_fault(path) if path else f'no image {stem}.<{exts}> in {img_dir}'
            if fault:
                report.add(txt, fault)
    report.count('DOTA label files', len(txts))
    if img_dir is not None:
        report.count('image files', len(txts))
