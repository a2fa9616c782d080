"""Split a COCO instance dataset into a source and a target domain by class (seeded).

From the papers' 520/130 NWPU VHR-10 split (``--train`` = the 520, ``--test`` = the 130) it writes,
into ``--out-dir``:

* ``source_{train,val,test}.json``: source-class instances with masks (stage 1 trains on them);
* ``target_{train,val,test}.json``: target-class instances with masks (the supervised upper
  bound trains on ``target_train``; ``target_test`` is the evaluation set);
* ``target_train_points_{k}pt.json``: the point labels of the target training instances (k
  positive points inside and k negative points outside each mask, seeded) and NO masks, boxes
  or areas: the only target annotation the point-supervised rows ever train on.

``val`` is carved from the training images (``--val-ratio``, seeded, the same images for source
and target), so checkpoint selection never touches the test images. Every file keeps all the
dataset's categories (label indices stay those of the dataset class); images with no instance of
a file's classes are left out of it. With ``--image-dir`` the images are linked (or, with
``--max-side``, downscaled copies with rescaled annotations are written) into ``OUT_DIR/images``.

    python projects/proxy_shift/tools/split_by_class.py \
        data/nwpu_vhr10/annotations/NWPU_instances_train.json \
        data/nwpu_vhr10/annotations/NWPU_instances_val.json data/nwpu_vhr10/proxy_shift --seed 0
"""

import argparse
import json
import os
import os.path as osp
import sys
import zlib
from collections import defaultdict
from typing import Dict, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpointsam.datasets.point_labels import coco_ann_to_mask  # noqa: E402
from mmpointsam.fileio import atomic_dump_json  # noqa: E402

SOURCE_CLASSES = (
    'airplane',
    'storage_tank',
    'baseball_diamond',
    'tennis_court',
    'basketball_court',
    'ground_track_field',
)
TARGET_CLASSES = ('ship', 'harbor', 'bridge', 'vehicle')
POINT_FILE = 'target_train_points_{}pt.json'


def _load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def subset(coco: dict, image_ids: Sequence[int], classes: Sequence[str]) -> dict:
    """Images of ``image_ids`` with instances of ``classes`` (others dropped), all categories."""
    cat_ids = {c['id'] for c in coco['categories'] if c['name'] in classes}
    missing = set(classes) - {c['name'] for c in coco['categories']}
    if missing:
        raise ValueError(f'classes {sorted(missing)} are not among the categories')
    wanted = set(image_ids)
    anns = [
        a
        for a in coco['annotations']
        if a['image_id'] in wanted and a['category_id'] in cat_ids and not a.get('iscrowd', 0)
    ]
    keep = {a['image_id'] for a in anns}
    images = [img for img in coco['images'] if img['id'] in keep]
    return dict(images=images, annotations=anns, categories=coco['categories'])


def _resize_images(
    cocos: Sequence[dict], src_dir: str, out_dir: str, max_side: Optional[int]
) -> None:
    """Put every image of ``cocos`` into ``out_dir/images``: a link to the original, or with
    ``max_side`` a copy whose longer side is ``max_side`` (INTER_AREA), with the annotations
    (polygons, RLE, boxes, areas, sizes) rescaled in place."""
    import cv2

    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    done = {}
    for coco in cocos:
        for img in coco['images']:
            name = img['file_name']
            src, dst = osp.join(src_dir, name), osp.join(out_dir, 'images', name)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if name not in done:
                scale = 1.0
                if max_side and max(img['width'], img['height']) > max_side:
                    scale = max_side / max(img['width'], img['height'])
                if scale == 1.0:
                    if osp.lexists(dst):
                        os.remove(dst)
                    os.symlink(osp.abspath(src), dst)
                    size = (img['width'], img['height'])
                else:
                    size = (
                        max(int(round(img['width'] * scale)), 1),
                        max(int(round(img['height'] * scale)), 1),
                    )
                    pixels = cv2.imread(src, cv2.IMREAD_COLOR)
                    if pixels is None:
                        raise FileNotFoundError(src)
                    cv2.imwrite(
                        dst,
                        cv2.resize(pixels, size, interpolation=cv2.INTER_AREA),
                        [cv2.IMWRITE_JPEG_QUALITY, 95],
                    )
                done[name] = (size[0] / img['width'], size[1] / img['height'], size)
            sx, sy, size = done[name]
            if size == (img['width'], img['height']):
                continue
            old_h, old_w = img['height'], img['width']
            img['width'], img['height'] = size
            for ann in coco['annotations']:
                if ann['image_id'] != img['id']:
                    continue
                seg = ann.get('segmentation')
                if isinstance(seg, list):
                    ann['segmentation'] = [
                        [v * (sx if i % 2 == 0 else sy) for i, v in enumerate(poly)] for poly in seg
                    ]
                elif isinstance(seg, dict):
                    mask = coco_ann_to_mask(ann, old_h, old_w).astype(np.uint8)
                    mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
                    rle = mask_utils.encode(np.asfortranarray(mask))
                    rle['counts'] = rle['counts'].decode()
                    ann['segmentation'] = rle
                if 'bbox' in ann:
                    x, y, w, h = ann['bbox']
                    ann['bbox'] = [x * sx, y * sy, w * sx, h * sy]
                if 'area' in ann:
                    ann['area'] = ann['area'] * sx * sy


def sar_like(pixels: np.ndarray, looks: float, rng: np.random.Generator) -> np.ndarray:
    """An optical image (H, W, 3) uint8 as SAR-like grey levels: its luminance squared is the
    backscatter intensity, multiplied by ``looks``-look speckle (gamma, mean 1), shown as the
    amplitude stretched over its 1st-99th percentile, the same grey in the three channels."""
    import cv2

    grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY).astype(np.float64) / 255.0
    amplitude = np.sqrt(grey**2 * rng.gamma(looks, 1.0 / looks, grey.shape))
    lo, hi = np.percentile(amplitude, [1, 99])
    out = np.clip((amplitude - lo) / max(hi - lo, 1e-6), 0, 1) * 255.0
    return np.repeat(out.round().astype(np.uint8)[..., None], 3, axis=2)


def restyle_images(coco: dict, src_dir: str, out_dir: str, looks: float, seed: int) -> None:
    """Write ``sar_like`` copies of the images of ``coco`` from ``src_dir`` into ``out_dir``
    (lossless PNG data under the same file names; the speckle seeded by ``seed`` and the image
    id). Images already there are kept, so a resumed run reuses them; each is written whole."""
    import cv2

    for img in coco['images']:
        out = osp.join(out_dir, img['file_name'])
        if osp.isfile(out):
            continue
        os.makedirs(osp.dirname(out), exist_ok=True)
        src = osp.join(src_dir, img['file_name'])
        pixels = cv2.imread(src, cv2.IMREAD_COLOR)
        if pixels is None:
            raise FileNotFoundError(src)
        tmp = f'{out}.tmp.png'
        cv2.imwrite(tmp, sar_like(pixels, looks, np.random.default_rng([seed, img['id']])))
        os.replace(tmp, out)


def point_labels(coco: dict, num_points: int, seed: int) -> dict:
    """Point labels of every instance (``points`` [[x, y], ...], ``point_labels`` [1.., 0..]):
    ``num_points`` positive pixels inside the mask, as many negative ones outside it. The points
    of an image depend only on the seed and its file name. Masks, boxes and areas are dropped."""
    by_image = defaultdict(list)
    for ann in coco['annotations']:
        by_image[ann['image_id']].append(ann)
    out = []
    for img in coco['images']:
        rng = np.random.default_rng([seed, num_points, zlib.crc32(img['file_name'].encode())])
        for ann in by_image[img['id']]:
            mask = coco_ann_to_mask(ann, img['height'], img['width'])
            inside, outside = np.flatnonzero(mask), np.flatnonzero(~mask)
            if inside.size == 0 or outside.size == 0:
                continue
            pos = rng.choice(inside, num_points, replace=inside.size < num_points)
            neg = rng.choice(outside, num_points, replace=outside.size < num_points)
            pts = [[int(i % img['width']), int(i // img['width'])] for i in np.r_[pos, neg]]
            out.append(
                dict(
                    id=ann['id'],
                    image_id=ann['image_id'],
                    category_id=ann['category_id'],
                    points=pts,
                    point_labels=[1] * num_points + [0] * num_points,
                )
            )
    return dict(images=coco['images'], annotations=out, categories=coco['categories'])


def split_by_class(
    train_json: str,
    test_json: str,
    out_dir: str,
    seed: int = 0,
    val_ratio: float = 0.1,
    source_classes: Sequence[str] = SOURCE_CLASSES,
    target_classes: Sequence[str] = TARGET_CLASSES,
    point_counts: Sequence[int] = (1, 3),
    image_dir: Optional[str] = None,
    max_side: Optional[int] = None,
) -> Dict[str, dict]:
    """Write the files described in the module docstring; returns a summary per file.

    With ``image_dir`` (the images of both jsons), the images go to ``out_dir/images`` (links,
    or with ``max_side`` copies downscaled to that longer side, annotations rescaled to match)."""
    overlap = set(source_classes) & set(target_classes)
    if overlap:
        raise ValueError(f'classes {sorted(overlap)} are both source and target')
    train, test = _load(train_json), _load(test_json)
    if image_dir is not None:
        _resize_images((train, test), image_dir, out_dir, max_side)
    shared = {i['file_name'] for i in train['images']} & {i['file_name'] for i in test['images']}
    if shared:
        raise ValueError(f'{len(shared)} images are in both {train_json} and {test_json}')
    ids = sorted(img['id'] for img in train['images'])
    rng = np.random.default_rng(seed)
    num_val = int(round(len(ids) * val_ratio))
    val_ids = set(rng.choice(ids, num_val, replace=False).tolist()) if num_val else set()
    train_ids = [i for i in ids if i not in val_ids]
    test_ids = [img['id'] for img in test['images']]
    files = {}
    for domain, classes in (('source', source_classes), ('target', target_classes)):
        files[f'{domain}_train.json'] = subset(train, train_ids, classes)
        files[f'{domain}_val.json'] = subset(train, sorted(val_ids), classes)
        files[f'{domain}_test.json'] = subset(test, test_ids, classes)
    for k in point_counts:
        files[POINT_FILE.format(k)] = point_labels(files['target_train.json'], k, seed)
    os.makedirs(out_dir, exist_ok=True)
    summary = {}
    for name, data in files.items():
        atomic_dump_json(data, osp.join(out_dir, name))
        summary[name] = dict(images=len(data['images']), instances=len(data['annotations']))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description='Source/target split of a COCO dataset by class')
    parser.add_argument('train_json', help='training annotations (the 520 of NWPU VHR-10)')
    parser.add_argument('test_json', help='test annotations (the 130 of NWPU VHR-10)')
    parser.add_argument('out_dir')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--val-ratio', type=float, default=0.1)
    parser.add_argument('--source-classes', nargs='+', default=list(SOURCE_CLASSES))
    parser.add_argument('--target-classes', nargs='+', default=list(TARGET_CLASSES))
    parser.add_argument('--point-counts', nargs='+', type=int, default=[1, 3])
    parser.add_argument(
        '--image-dir', help='images of both jsons: link or resize them into OUT_DIR/images'
    )
    parser.add_argument('--max-side', type=int, help='with --image-dir: downscale to this side')
    args = parser.parse_args()
    summary = split_by_class(
        args.train_json,
        args.test_json,
        args.out_dir,
        args.seed,
        args.val_ratio,
        args.source_classes,
        args.target_classes,
        args.point_counts,
        args.image_dir,
        args.max_side,
    )
    for name, s in summary.items():
        print(f'{osp.join(args.out_dir, name)}: {s["images"]} images, {s["instances"]} instances')


if __name__ == '__main__':
    main()
