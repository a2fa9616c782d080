"""Carve a validation split out of a COCO training split (seeded, by image).

Checkpoint selection must never see the test split: self-training configs validate on this
split and test on the papers' test split.

    python tools/dataset_converters/split_train_val.py \
        data/nwpu_vhr10/annotations/NWPU_instances_train.json data/nwpu_vhr10_splits \
        --val-ratio 0.1 --seed 0
"""

import argparse
import os
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpointsam.fileio import atomic_dump_json  # noqa: E402
from mmpointsam.utils.input_checks import FaultReport, check_coco_json  # noqa: E402


def split_coco(coco: dict, val_ratio: float, seed: int):
    """Split a COCO dict by images; returns (train, val) dicts with the same categories."""
    if not 0 < val_ratio < 1:
        raise ValueError(f'val_ratio must be in (0, 1), got {val_ratio}')
    ids = sorted(img['id'] for img in coco['images'])
    rng = np.random.default_rng(seed)
    num_val = max(1, int(round(len(ids) * val_ratio)))
    val_ids = set(rng.choice(ids, num_val, replace=False).tolist())

    def subset(keep):
        return dict(
            {k: v for k, v in coco.items() if k not in ('images', 'annotations')},
            images=[img for img in coco['images'] if keep(img['id'])],
            annotations=[a for a in coco['annotations'] if keep(a['image_id'])],
        )

    return subset(lambda i: i not in val_ids), subset(lambda i: i in val_ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('train_json')
    parser.add_argument('out_dir')
    parser.add_argument('--val-ratio', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--prefix', default='', help='prefix of the output file names')
    args = parser.parse_args()
    report = FaultReport()  # ids, image and category references: all faults at once
    coco = check_coco_json(report, args.train_json)
    report.raise_if_any()
    train, val = split_coco(coco, args.val_ratio, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, part in (('train', train), ('val', val)):
        path = osp.join(args.out_dir, f'{args.prefix}{name}.json')
        atomic_dump_json(part, path)
        print(f'{path}: {len(part["images"])} images, {len(part["annotations"])} instances')


if __name__ == '__main__':
    main()
