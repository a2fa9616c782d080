"""Sample point labels from a ground-truth COCO instance json (seeded), for point2rbox.

    python tools/dataset_converters/sample_point_labels.py \
        data/nwpu_vhr10/annotations/NWPU_instances_train.json \
        data/nwpu_vhr10_rbox/points_train.json --num-points 1 --seed 0
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.datasets import sample_point_labels  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Sample point labels from instance masks')
    parser.add_argument('gt_json', help='COCO instance json with masks')
    parser.add_argument('out_json', help='point-label json to write')
    parser.add_argument('--num-points', type=int, default=1, help='positive points per instance')
    parser.add_argument(
        '--num-neg-points',
        type=int,
        default=0,
        help='negative points per instance (outside its mask)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--img-ids', type=int, nargs='+', help='only these image ids (a subset for a quick run)'
    )
    parser.add_argument('--max-images', type=int, help='only the first N images (after --img-ids)')
    return parser.parse_args()


def main():
    args = parse_args()
    summary = sample_point_labels(
        args.gt_json,
        args.out_json,
        num_points=args.num_points,
        num_neg_points=args.num_neg_points,
        seed=args.seed,
        img_ids=args.img_ids,
        max_images=args.max_images,
    )
    print(
        f'{summary["num_instances"]} point labels of {summary["num_images"]} images written to '
        f'{summary["out"]} (skipped: {summary["skipped"] or "none"})'
    )


if __name__ == '__main__':
    main()
