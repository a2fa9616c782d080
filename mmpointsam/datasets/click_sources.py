"""Common click sources -> the point-label json (:mod:`.point_labels`) that training from clicks,
``tools/compute_prototypes.py`` and ``tools/point2rbox.py`` read.

- CSV with a header ``image,x,y,class`` (one row per click; optional ``object`` column: rows with
  the same image and object are clicks of one object; class ``background``: a click on no
  object, kept as the image's ``background_points``).
- COCO keypoints json: every annotation's labelled keypoints (visibility > 0) become its clicks,
  or only the keypoint named by ``keypoint``; masks, boxes and areas are dropped.
"""

import csv
import os.path as osp
from collections import OrderedDict
from typing import List, Optional, Sequence

from mmpointsam.fileio import atomic_dump_json, load_coco_json

BACKGROUND = 'background'


def _check_inside(x: float, y: float, width: int, height: int, where: str) -> None:
    """Raise when a click lies outside its image (pixel indices 0 <= x < width, 0 <= y < height)."""
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f'{where}: click ({x}, {y}) is outside the {width}x{height} image')


def _csv_rows(csv_path: str, report) -> Optional[List[dict]]:
    """The CSV's rows (stripped keys and values), or None with a fault when the header lacks
    image,x,y,class. A byte-order mark and CRLF line ends read as plain CSV."""
    # utf-8-sig drops a byte-order mark; newline='' lets csv take CRLF and LF line ends
    with open(csv_path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ('image', 'x', 'y', 'class') if c not in header]
        if missing:
            hint = (
                ' (the file looks semicolon-separated: save it comma-separated)'
                if len(header) == 1 and ';' in header[0]
                else ''
            )
            report.add(
                csv_path,
                f'header must have image,x,y,class (and optionally object); missing {missing}, '
                f'got {header}{hint}',
            )
            return None
        return [
            {k.strip(): (v or '').strip() for k, v in row.items() if isinstance(k, str)}
            for row in reader
        ]


def _group_clicks(csv_path: str, rows: List[dict], img_dir: str, names: list, report) -> dict:
    """Rows -> images (sizes from their headers), objects (clicks grouped by image and the
    ``object`` column, one object per row without it) and background clicks; each faulty row
    goes to ``report`` and is left out."""
    from mmpointsam.utils.input_checks import inspect_image

    cat_ids = {name: i + 1 for i, name in enumerate(names)}
    images, objects, background, unreadable = OrderedDict(), OrderedDict(), {}, set()
    for line, row in enumerate(rows, start=2):
        record = f'line {line}'
        try:
            x, y = float(row['x']), float(row['y'])
        except ValueError:
            report.add(csv_path, f'x, y must be numbers, got {row["x"]!r}, {row["y"]!r}', record)
            continue
        if row['class'] != BACKGROUND and row['class'] not in cat_ids:
            report.add(csv_path, f'class {row["class"]!r} is not one of {names}', record)
            continue
        name = row['image']
        if not name:
            report.add(csv_path, 'no image name', record)
            continue
        if name in unreadable:
            continue
        if name not in images:
            width, height, fault = inspect_image(osp.join(img_dir, name))
            if fault:
                report.add(csv_path, fault, record)
                unreadable.add(name)
                continue
            images[name] = dict(id=len(images) + 1, file_name=name, width=width, height=height)
            report.count('image files')
        img = images[name]
        if not (0 <= x < img['width'] and 0 <= y < img['height']):
            report.add(
                csv_path,
                f'click ({x}, {y}) is outside the {img["width"]}x{img["height"]} image {name}',
                record,
            )
            continue
        if row['class'] == BACKGROUND:
            background.setdefault(name, []).append([x, y])
            continue
        key = (name, row.get('object') or f'line{line}')
        obj = objects.setdefault(key, dict(image=name, category=row['class'], points=[]))
        if obj['category'] != row['class']:
            report.add(
                csv_path,
                f'object {key[1]!r} of {name} has classes {obj["category"]!r} and {row["class"]!r}',
                record,
            )
            continue
        obj['points'].append([x, y])
    return dict(images=images, objects=objects, background=background, cat_ids=cat_ids)


def read_click_csv(
    csv_path: str, img_dir: str, classes: Optional[Sequence[str]] = None, report=None
) -> Optional[dict]:
    """Parse and check a click CSV; every fault (file, line, value) goes to ``report`` (a
    :class:`FaultReport`). A spreadsheet's "CSV UTF-8" (byte-order mark, CRLF line ends) reads
    as plain CSV.

    Returns:
        None if the header is unusable, else ``dict(images, objects, background, cat_ids)``
        (images: file name -> COCO image dict, sizes read from the image headers).
    """
    if not osp.isfile(csv_path):
        report.add(csv_path, 'click CSV not found')
        return None
    rows = _csv_rows(csv_path, report)
    if rows is None:
        return None
    report.count('click CSV')
    names = (
        list(classes)
        if classes
        else list(OrderedDict.fromkeys(r['class'] for r in rows if r['class'] != BACKGROUND))
    )
    return _group_clicks(csv_path, rows, img_dir, names, report)


def csv_to_point_labels(
    csv_path: str, img_dir: str, out_json: str, classes: Optional[Sequence[str]] = None
) -> dict:
    """Convert a click CSV; image sizes are read from ``img_dir``. Category ids follow
    ``classes`` (default: the CSV's classes in order of first appearance), from 1.

    Raises:
        ValueError: (an ``InputError``) listing every fault of the CSV and its images; nothing
            is written then.
    """
    from mmpointsam.utils.input_checks import FaultReport

    report = FaultReport()
    parsed = read_click_csv(csv_path, img_dir, classes, report)
    report.raise_if_any()
    images, objects = parsed['images'], parsed['objects']
    background, cat_ids = parsed['background'], parsed['cat_ids']
    for name, points in background.items():
        images[name]['background_points'] = points
    anns = [
        dict(
            id=i + 1,
            image_id=images[o['image']]['id'],
            category_id=cat_ids[o['category']],
            points=o['points'],
            point_labels=[1] * len(o['points']),
        )
        for i, o in enumerate(objects.values())
    ]
    out = dict(
        info=dict(
            description=f'clicks from {osp.basename(csv_path)}',
            point_convention='pixel index [column, row]; SAM adds the half pixel',
        ),
        images=list(images.values()),
        categories=[dict(id=i, name=n) for n, i in cat_ids.items()],
        annotations=anns,
    )
    atomic_dump_json(out, out_json)
    return dict(
        num_images=len(images),
        num_instances=len(anns),
        num_background_points=sum(map(len, background.values())),
        out=out_json,
    )


def _labelled_keypoints(kps: list, category: dict, keypoint: Optional[str], where: str):
    """The labelled (v > 0) keypoints [x, y] of an annotation, or only the one named
    ``keypoint`` (which must be among its category's keypoints)."""
    triples = [kps[i : i + 3] for i in range(0, len(kps), 3)]
    if keypoint is not None:
        names = category.get('keypoints') or []
        if keypoint not in names:
            raise ValueError(
                f"{where}: keypoint {keypoint!r} is not among its category's keypoints {names}"
            )
        triples = [triples[names.index(keypoint)]]
    return [[float(x), float(y)] for x, y, v in triples if v > 0]


def coco_keypoints_to_point_labels(
    coco_json: str, out_json: str, keypoint: Optional[str] = None
) -> dict:
    """Convert a COCO keypoints json: one instance per annotation with labelled keypoints."""
    coco = load_coco_json(coco_json, 'COCO keypoints json')
    images = {img['id']: img for img in coco['images']}
    cats = {c['id']: c for c in coco['categories']}
    anns, skipped = [], 0
    for ann in coco['annotations']:
        where = f'{coco_json} annotation {ann.get("id")}'
        kps = ann.get('keypoints')
        if not isinstance(kps, list) or len(kps) % 3:
            raise ValueError(f'{where}: "keypoints" must be [x, y, v, ...]')
        if ann.get('image_id') not in images:
            raise ValueError(f'{where}: image id {ann.get("image_id")} is not in "images"')
        if ann.get('category_id') not in cats:
            raise ValueError(f'{where}: category id {ann.get("category_id")} is unknown')
        points = _labelled_keypoints(kps, cats[ann['category_id']], keypoint, where)
        if not points:
            skipped += 1
            continue
        img = images[ann['image_id']]
        for x, y in points:
            _check_inside(x, y, img['width'], img['height'], where)
        anns.append(
            dict(
                id=ann['id'],
                image_id=ann['image_id'],
                category_id=ann['category_id'],
                points=points,
                point_labels=[1] * len(points),
            )
        )
    out = dict(
        info=dict(
            description=f'clicks from the keypoints of {osp.basename(coco_json)}',
            point_convention='pixel index [column, row]; SAM adds the half pixel',
        ),
        images=coco['images'],
        categories=[dict(id=c['id'], name=c['name']) for c in coco['categories']],
        annotations=anns,
    )
    atomic_dump_json(out, out_json)
    return dict(
        num_images=len(images), num_instances=len(anns), skipped_unlabelled=skipped, out=out_json
    )
