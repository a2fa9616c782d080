"""DOTA labelTxt polygons -> point labels: seeded clicks inside each object (simulated annotators).

    python tools/dataset_converters/dota_to_points.py data/DOTA/train/labelTxt \
        data/DOTA/train/images data/dota_rbox/points_train.json --seed 0

The json feeds tools/point2rbox.py (see docs/en/user_guides/point2rbox.md, DOTA-v1.0 recipe).
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.datasets.dota_points import dota_to_point_labels  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='DOTA labelTxt -> seeded point labels')
    parser.add_argument('label_dir', help='folder of DOTA <stem>.txt labels')
    parser.add_argument('img_dir', help='folder of the images (<stem>.png, .jpg, .tif, ...)')
    parser.add_argument('out_json', help='point-label json to write')
    parser.add_argument('--num-points', type=int, default=1, help='clicks per object')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--classes',
        nargs='+',
        help='class names, in label order (default: DOTA-v1.0, MMRotate order)',
    )
    parser.add_argument(
        '--skip-difficult', action='store_true', help='no clicks on objects marked difficult'
    )
    return parser.parse_args()


def main():
    args = parse_args()
    out = dota_to_point_labels(
        args.label_dir,
        args.img_dir,
        args.out_json,
        num_points=args.num_points,
        seed=args.seed,
        classes=args.classes,
        skip_difficult=args.skip_difficult,
    )
    print(f'{out["annotations"]} objects in {out["images"]} images -> {out["json"]}')


if __name__ == '__main__':
    main()
