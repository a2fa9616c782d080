"""DOTA ``labelTxt`` polygons -> seeded point labels (one or more clicks inside each object).

Simulates annotators' single clicks on DOTA-format data, so that the point -> rbox converter and
the detectors trained on its boxes can be compared with published point-supervised results. A
click is a pixel (column, row) whose centre lies inside the object's polygon, drawn uniformly;
an object too thin to hold a pixel centre is clicked at the pixel under its centroid.
"""

import glob
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import shapely
from PIL import Image

from mmpointsam.fileio import atomic_dump_json

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


def dota_v1_classes() -> tuple:
    """DOTA-v1.0's 15 classes in MMRotate's ``DOTADataset`` order (its label indices)."""
    from mmrotate.datasets import DOTADataset

    return tuple(DOTADataset.METAINFO['classes'])


def read_dota_txt(path: str) -> List[dict]:
    """Objects of a DOTA ``labelTxt`` file: ``polygon`` (4, 2), ``name``, ``difficult``.

    Header lines (``imagesource:``, ``gsd:``) and blank lines are skipped."""
    objects = []
    with open(path) as f:
        for num, line in enumerate(f, 1):
            items = line.split()
            if not items or line.startswith(('imagesource', 'gsd')):
                continue
            if len(items) < 9:
                raise ValueError(
                    f'{path}:{num}: expected "x1 y1 ... x4 y4 class [difficult]", '
                    f'got {line.strip()!r}'
                )
            objects.append(
                dict(
                    polygon=np.array(items[:8], dtype=np.float64).reshape(4, 2),
                    name=items[8],
                    difficult=int(items[9]) if len(items) > 9 else 0,
                )
            )
    return objects


def clicks_in_polygon(
    polygon: np.ndarray, num: int, rng: np.random.Generator, width: int, height: int
) -> np.ndarray:
    """``num`` distinct pixels (x, y) whose centres lie in ``polygon`` (fewer if it holds
    fewer), drawn uniformly; the pixel under the centroid when it holds none."""
    poly = shapely.Polygon(polygon)
    x0, y0, x1, y1 = (
        polygon[:, 0].min(),
        polygon[:, 1].min(),
        polygon[:, 0].max(),
        polygon[:, 1].max(),
    )
    xs = np.arange(max(0, int(np.floor(x0))), min(width, int(np.ceil(x1)) + 1))
    ys = np.arange(max(0, int(np.floor(y0))), min(height, int(np.ceil(y1)) + 1))
    if len(xs) and len(ys) and poly.is_valid and poly.area > 0:
        gx, gy = np.meshgrid(xs, ys)
        inside = shapely.contains_xy(poly, gx.ravel() + 0.5, gy.ravel() + 0.5)
        cand = np.stack([gx.ravel()[inside], gy.ravel()[inside]], axis=1)
        if len(cand):
            pick = rng.choice(len(cand), size=min(num, len(cand)), replace=False)
            return cand[np.sort(pick)].astype(np.float64)
    cx, cy = polygon.mean(axis=0)
    return np.array(
        [[min(max(int(cx), 0), width - 1), min(max(int(cy), 0), height - 1)]], dtype=np.float64
    )


def dota_to_point_labels(
    label_dir: str,
    img_dir: str,
    out_json: str,
    num_points: int = 1,
    seed: int = 0,
    classes: Optional[Sequence[str]] = None,
    skip_difficult: bool = False,
) -> dict:
    """Write a point-label json (``PointLabelDataset``'s format) from DOTA ``labelTxt`` files.

    Args:
        label_dir: folder of ``<stem>.txt`` DOTA labels; images are ``<stem>.<ext>`` in
            ``img_dir`` (png, jpg, tif, bmp).
        num_points: positive clicks per object.
        seed: the clicks are the same for the same files and seed.
        classes: class names (default DOTA-v1.0's, MMRotate's order); category ids are 1-based
            in that order.
        skip_difficult: leave out objects marked difficult (1).

    Returns:
        ``dict(images, annotations, json)``: counts and the written path.
    """
    classes = tuple(classes or dota_v1_classes())
    cat_ids = {name: i + 1 for i, name in enumerate(classes)}
    txts = sorted(glob.glob(osp.join(label_dir, '*.txt')))
    if not txts:
        raise FileNotFoundError(f'no DOTA label files (*.txt) in {label_dir}')
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for img_id, txt in enumerate(txts, 1):
        stem = osp.splitext(osp.basename(txt))[0]
        found = [stem + e for e in IMG_EXTS if osp.isfile(osp.join(img_dir, stem + e))]
        if not found:
            raise FileNotFoundError(f'{txt}: no image {stem}.<{"|".join(IMG_EXTS)}> in {img_dir}')
        with Image.open(osp.join(img_dir, found[0])) as im:  # reads the header only
            width, height = im.size
        images.append(dict(id=img_id, file_name=found[0], width=width, height=height))
        for obj in read_dota_txt(txt):
            if obj['name'] not in cat_ids:
                raise ValueError(f'{txt}: class {obj["name"]!r} is not one of {classes}')
            if skip_difficult and obj['difficult']:
                continue
            pts = clicks_in_polygon(obj['polygon'], num_points, rng, width, height)
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=img_id,
                    category_id=cat_ids[obj['name']],
                    points=pts.tolist(),
                    point_labels=[1] * len(pts),
                    difficult=obj['difficult'],
                )
            )
    data = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=i, name=n) for n, i in cat_ids.items()],
        info=dict(
            description=f'seeded clicks (seed {seed}, {num_points} per object) '
            f'inside the DOTA polygons of {osp.abspath(label_dir)}'
        ),
    )
    atomic_dump_json(data, out_json)
    return dict(images=len(images), annotations=len(annotations), json=out_json)
