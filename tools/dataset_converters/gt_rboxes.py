"""Ground-truth rotated boxes (min-area rectangles of the GT masks) as COCO json and DOTA txt.

    python tools/dataset_converters/gt_rboxes.py \
        data/nwpu_vhr10/annotations/NWPU_instances_train.json data/nwpu_vhr10_rbox/gt_train
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.apis import gt_rboxes  # noqa: E402
from mmpointsam.apis.gt_rboxes import GT_SOURCES  # noqa: E402
from mmpointsam.structures import RBOX_METHODS  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Rotated boxes of ground-truth masks')
    parser.add_argument('gt_json', help='COCO instance json with masks')
    parser.add_argument('out_dir', help='output folder: labels.json and annfiles/*.txt')
    parser.add_argument(
        '--source',
        choices=GT_SOURCES,
        default='mask',
        help='mask: rasterised masks through mask -> rbox (as pseudo labels); polygon: the '
        'min-area rectangle of the polygon vertices (as MMRotate ConvertMask2BoxType)',
    )
    parser.add_argument(
        '--method',
        choices=RBOX_METHODS,
        default='all',
        help='for --source mask: all pixels or the largest component',
    )
    return parser.parse_args()


def main():
    args = parse_args()
    result = gt_rboxes(args.gt_json, args.out_dir, source=args.source, method=args.method)
    print(
        f'{result["num_boxes"]} rotated boxes of {result["num_images"]} images: '
        f'{result["json"]}, {result["dota_dir"]}; {result["num_empty"]} masks without pixels'
    )


if __name__ == '__main__':
    main()
