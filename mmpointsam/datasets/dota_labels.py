"""DOTA ``labelTxt`` folders as COCO-style records with stable ids, and as a ground-truth json.

Image ids follow the sorted txt files (1, 2, ...); object ids number every object of the folder
in file order (1, 2, ...), whatever a consumer skips. So the point labels of
:mod:`.dota_points` (with or without difficult objects) and the ground truth written here share
annotation ids, and ``rbox_quality.py`` pairs each pseudo label with its own object.
"""

import glob
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmpointsam.fileio import atomic_dump_json, load_dota_txt
from mmpointsam.utils.input_checks import FaultReport, check_dota_dir, find_image, inspect_image


def dota_v1_classes() -> tuple:
    """DOTA-v1.0's 15 classes in MMRotate's ``DOTADataset`` order (its label indices)."""
    from mmrotate.datasets import DOTADataset

    return tuple(DOTADataset.METAINFO['classes'])


def read_dota_txt(path: str) -> List[dict]:
    """Objects of a DOTA ``labelTxt`` file: ``polygon`` (4, 2), ``name``, ``difficult``."""
    corners, names, diffs = load_dota_txt(path)
    return [dict(polygon=c, name=n, difficult=int(d)) for c, n, d in zip(corners, names, diffs)]


def dota_label_set(
    label_dir: str, img_dir: str, classes: Optional[Sequence[str]] = None
) -> Tuple[List[dict], List[dict], tuple]:
    """Read a DOTA ``labelTxt`` folder and the sizes of its images, after checking all of it
    (every line, class and image: :func:`check_dota_dir`; every fault reported at once).

    Args:
        label_dir: folder of ``<stem>.txt`` DOTA labels; images are ``<stem>.<ext>`` in
            ``img_dir`` (png, jpg, tif, bmp).
        classes: class names (default DOTA-v1.0's, MMRotate's order); category ids are 1-based
            in that order.

    Returns:
        ``(images, objects, classes)``: COCO image dicts (``id``, ``file_name``, ``width``,
        ``height``) and objects (``id``, ``image_id``, ``category_id``, ``polygon`` (4, 2),
        ``difficult``), ids as the module's docstring says.
    """
    classes = tuple(classes or dota_v1_classes())
    report = FaultReport()
    check_dota_dir(report, label_dir, img_dir, classes)
    report.raise_if_any()
    cat_ids = {name: i + 1 for i, name in enumerate(classes)}
    images, objects = [], []
    for img_id, txt in enumerate(sorted(glob.glob(osp.join(label_dir, '*.txt'))), 1):
        path = find_image(img_dir, osp.splitext(osp.basename(txt))[0])
        width, height, _ = inspect_image(path)
        images.append(dict(id=img_id, file_name=osp.basename(path), width=width, height=height))
        for obj in read_dota_txt(txt):
            objects.append(
                dict(
                    id=len(objects) + 1,
                    image_id=img_id,
                    category_id=cat_ids[obj['name']],
                    polygon=obj['polygon'],
                    difficult=obj['difficult'],
                )
            )
    return images, objects, classes


def _polygon_area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def dota_to_gt_json(
    label_dir: str, img_dir: str, out_json: str, classes: Optional[Sequence[str]] = None
) -> dict:
    """Write DOTA ground truth as a COCO instance json: each object's quadrilateral as its
    polygon ``segmentation``, ``bbox`` (its axis-aligned box), ``area`` (the quadrilateral's)
    and ``difficult``. ``tools/dataset_converters/gt_rboxes.py --source polygon`` turns it into
    rotated boxes as MMRotate's DOTA loader does (min-area rectangle of the 4 corners), which
    ``tools/analysis_tools/rbox_quality.py`` compares pseudo labels with.

    Returns:
        ``dict(images, annotations, difficult, json)``: counts and the written path.
    """
    images, objects, classes = dota_label_set(label_dir, img_dir, classes)
    annotations = []
    for obj in objects:
        poly = obj['polygon']
        x0, y0 = poly.min(axis=0)
        x1, y1 = poly.max(axis=0)
        annotations.append(
            dict(
                id=obj['id'],
                image_id=obj['image_id'],
                category_id=obj['category_id'],
                segmentation=[[round(float(v), 3) for v in poly.reshape(-1)]],
                bbox=[round(float(v), 3) for v in (x0, y0, x1 - x0, y1 - y0)],
                area=round(_polygon_area(poly), 3),
                iscrowd=0,
                difficult=obj['difficult'],
            )
        )
    data = dict(
        info=dict(description=f'DOTA ground truth of {osp.abspath(label_dir)}'),
        images=images,
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(classes)],
        annotations=annotations,
    )
    atomic_dump_json(data, out_json)
    return dict(
        images=len(images),
        annotations=len(annotations),
        difficult=sum(a['difficult'] != 0 for a in annotations),
        json=out_json,
    )
