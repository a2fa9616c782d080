"""DOTA ``labelTxt`` polygons -> seeded point labels (one or more clicks inside each object).

Simulates annotators' single clicks on DOTA-format data, so that the point -> rbox converter and
the detectors trained on its boxes can be compared with published point-supervised results. A
click is a pixel (column, row) whose centre lies inside the object's polygon, drawn uniformly;
an object too thin to hold a pixel centre is clicked at the pixel under its centroid.
"""

import os.path as osp
from typing import Optional, Sequence

import numpy as np
import shapely

from mmpointsam.fileio import atomic_dump_json

from .dota_labels import dota_label_set, dota_v1_classes, read_dota_txt  # noqa: F401


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
        skip_difficult: leave out objects marked difficult (1); the others keep their ids.

    Every label file, class and image is checked first (:func:`dota_label_set`); each
    annotation keeps the object's ``difficult`` flag, which the pseudo labels carry on.

    Returns:
        ``dict(images, annotations, json)``: counts and the written path.
    """
    images, objects, classes = dota_label_set(label_dir, img_dir, classes)
    sizes = {img['id']: (img['width'], img['height']) for img in images}
    rng = np.random.default_rng(seed)
    annotations = []
    for obj in objects:
        if skip_difficult and obj['difficult']:
            continue
        pts = clicks_in_polygon(obj['polygon'], num_points, rng, *sizes[obj['image_id']])
        annotations.append(
            dict(
                id=obj['id'],  # the object's own id: the same as in dota_to_gt_json
                image_id=obj['image_id'],
                category_id=obj['category_id'],
                points=pts.tolist(),
                point_labels=[1] * len(pts),
                difficult=obj['difficult'],
            )
        )
    data = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(classes)],
        info=dict(
            description=f'seeded clicks (seed {seed}, {num_points} per object) '
            f'inside the DOTA polygons of {osp.abspath(label_dir)}'
        ),
    )
    atomic_dump_json(data, out_json)
    return dict(images=len(images), annotations=len(annotations), json=out_json)
