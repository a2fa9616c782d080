"""Draw pseudo rotated boxes beside ground-truth rotated boxes, one picture per image.

Each side is a COCO json whose annotations' ``segmentation`` is a 4-corner polygon
``[[x1, y1, ..., x4, y4]]`` (optionally with a ``score``), the format of the point -> rotated box
converter, or a DOTA folder of ``<image stem>.txt`` files with ``x1 y1 ... x4 y4 class difficulty``
lines. A COCO polygon with more than 4 corners (an instance mask, e.g. NWPU's ground truth) is
drawn as its minimum-area rectangle. Boxes are coloured by class. The images drawn are those
both sides list (all ground-truth images when they share none).

Example:
    python tools/vis_rboxes.py data/nwpu_vhr10/annotations/NWPU_instances_val.json \
        work_dirs/point2rbox/rboxes.json --img-dir data/nwpu_vhr10/images \
        --output-dir work_dirs/vis_rboxes --max-images 20
"""

import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, NamedTuple, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.fileio import load_dota_txt  # noqa: E402
from mmpointsam.utils.input_checks import FaultReport, inspect_image  # noqa: E402
from mmpointsam.visualization import SAMVisualizer, instance_colors  # noqa: E402

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


class RBoxes(NamedTuple):
    """Rotated boxes of one image: corners (N, 8), class names, scores (or None), image file."""

    corners: np.ndarray
    names: List[str]
    scores: Optional[np.ndarray]
    file_name: Optional[str] = None


def polygon_to_corners(polygon, where: str) -> np.ndarray:
    """8 corner values of a 4-corner polygon, or of the minimum-area rectangle of a longer one."""
    pts = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3 or np.asarray(polygon).size % 2:
        raise ValueError(f'{where}: a polygon needs at least 3 xy corners, got {polygon!r}')
    if len(pts) == 4:
        return pts.reshape(8)
    return cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32))).reshape(8).astype(np.float64)


def load_coco_rboxes(path: str) -> Dict[str, RBoxes]:
    """Rotated boxes per image stem from a COCO json (polygon ``segmentation`` per annotation)."""
    with open(path) as f:
        coco = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in coco:
            raise KeyError(f'{path}: not a COCO json (no "{key}")')
    cats = {c['id']: c['name'] for c in coco['categories']}
    images = {im['id']: im['file_name'] for im in coco['images']}
    per_image: Dict[int, list] = {i: [] for i in images}
    for ann in coco['annotations']:
        where = f'{path}: annotation {ann.get("id")}'
        seg = ann.get('segmentation')
        if not isinstance(seg, list) or not seg:
            raise ValueError(
                f'{where}: segmentation must be a polygon list [[x1, y1, ...]], '
                f'got {type(seg).__name__}'
            )
        polygon = seg[0] if isinstance(seg[0], (list, tuple)) else seg
        if ann['image_id'] not in per_image:
            raise KeyError(f'{where}: image_id {ann["image_id"]} is not in "images"')
        if ann['category_id'] not in cats:
            raise KeyError(f'{where}: category_id {ann["category_id"]} is not in "categories"')
        per_image[ann['image_id']].append(
            (polygon_to_corners(polygon, where), cats[ann['category_id']], ann.get('score'))
        )
    out = {}
    for img_id, anns in per_image.items():
        file_name = images[img_id]
        scored = bool(anns) and all(a[2] is not None for a in anns)
        out[osp.splitext(osp.basename(file_name))[0]] = RBoxes(
            np.asarray([a[0] for a in anns], np.float64).reshape(-1, 8),
            [a[1] for a in anns],
            np.asarray([a[2] for a in anns], np.float64) if scored else None,
            file_name,
        )
    return out


def load_dota_rboxes(folder: str) -> Dict[str, RBoxes]:
    """Rotated boxes per image stem from DOTA txt files (header lines are skipped)."""
    files = sorted(glob.glob(osp.join(folder, '*.txt')))
    if not files:
        raise FileNotFoundError(f'{folder}: no DOTA .txt files')
    out = {}
    for path in files:
        corners, names, _ = load_dota_txt(path)
        stem = osp.splitext(osp.basename(path))[0]
        out[stem] = RBoxes(corners.reshape(-1, 8), names, None)
    return out


def load_rboxes(path: str) -> Dict[str, RBoxes]:
    """A COCO json file or a DOTA folder."""
    if osp.isdir(path):
        return load_dota_rboxes(path)
    if osp.isfile(path) and path.endswith('.json'):
        return load_coco_rboxes(path)
    raise FileNotFoundError(f'{path}: neither a COCO .json file nor a folder of DOTA .txt files')


def find_image(img_dir: str, stem: str, file_name: Optional[str]) -> str:
    if file_name and osp.isfile(osp.join(img_dir, file_name)):
        return osp.join(img_dir, file_name)
    for ext in IMG_EXTS:
        path = osp.join(img_dir, stem + ext)
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'no image for "{stem}" in {img_dir} (tried {file_name or stem}.*)')


def to_instances(boxes: RBoxes, classes: List[str], score_thr: Optional[float]):
    labels = np.asarray([classes.index(n) for n in boxes.names], dtype=np.int64)
    keep = np.ones(len(labels), bool)
    if score_thr is not None and boxes.scores is not None:
        keep = boxes.scores >= score_thr
    inst = InstanceData(rboxes=boxes.corners[keep], labels=labels[keep])
    if boxes.scores is not None:
        inst.scores = boxes.scores[keep]
    return inst


def draw_pair(
    vis: SAMVisualizer,
    image: np.ndarray,
    gt: RBoxes,
    pred: RBoxes,
    classes: List[str],
    score_thr: Optional[float] = None,
    gt_title: str = 'ground truth',
    pred_title: str = 'pseudo',
) -> np.ndarray:
    """Ground-truth boxes (left) beside pseudo boxes (right), coloured by class."""
    palette = instance_colors(len(classes))
    panels = []
    for title, boxes in ((gt_title, gt), (pred_title, pred)):
        inst = to_instances(boxes, classes, score_thr if boxes is pred else None)
        panels.append(
            vis.draw_instances(
                image, inst, classes, f'{title} ({len(inst)})', colors=palette[inst.labels]
            )
        )
    return vis.concat_panels(panels)


def parse_args():
    parser = argparse.ArgumentParser(description='Pseudo rotated boxes beside ground truth')
    parser.add_argument('gt', help='ground truth: COCO json or DOTA txt folder')
    parser.add_argument('pred', help='pseudo boxes: COCO json or DOTA txt folder')
    parser.add_argument('--img-dir', required=True, help='folder of the images')
    parser.add_argument('--output-dir', required=True, help='folder for the pictures')
    parser.add_argument('--max-images', type=int, default=20, help='pictures to save')
    parser.add_argument('--score-thr', type=float, help='hide pseudo boxes scored below it')
    parser.add_argument('--hide-labels', action='store_true', help='no class names/scores')
    parser.add_argument(
        '--names',
        nargs=2,
        default=['ground truth', 'pseudo'],
        metavar=('GT', 'PRED'),
        help='panel titles',
    )
    return parser.parse_args()


def main():
    args = parse_args()
    gt, pred = load_rboxes(args.gt), load_rboxes(args.pred)
    classes = []
    for side in (gt, pred):
        for boxes in side.values():
            classes += [n for n in boxes.names if n not in classes]
    # the images both sides cover (a pseudo-label file may cover only part of the dataset)
    stems = sorted(set(gt) & set(pred)) or sorted(gt)
    stems = stems[: args.max_images]
    # every image is found and reads before the first picture is written
    report, paths = FaultReport(), {}
    for stem in stems:
        try:
            paths[stem] = find_image(args.img_dir, stem, gt[stem].file_name)
        except FileNotFoundError as e:
            report.add(args.img_dir, str(e))
            continue
        _, _, fault = inspect_image(paths[stem])
        if fault:
            report.add(paths[stem], fault)
    report.raise_if_any()
    vis = SAMVisualizer(name='vis_rboxes', draw_labels=not args.hide_labels)
    os.makedirs(args.output_dir, exist_ok=True)
    empty = RBoxes(np.zeros((0, 8)), [], None)
    progress = ProgressBar(len(stems))
    for stem in stems:
        image = mmcv.imread(paths[stem], channel_order='rgb')
        drawn = draw_pair(
            vis, image, gt[stem], pred.get(stem, empty), classes, args.score_thr, *args.names
        )
        mmcv.imwrite(drawn[..., ::-1], osp.join(args.output_dir, f'{stem}.jpg'))
        progress.update()
    print(f'\n{len(stems)} pictures in {args.output_dir}')


if __name__ == '__main__':
    main()
