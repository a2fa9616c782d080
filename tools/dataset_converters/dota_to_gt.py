"""DOTA labelTxt ground truth -> a COCO instance json (quadrilaterals as polygons, difficult flag),
to measure pseudo-label quality on DOTA:

    python tools/dataset_converters/dota_to_gt.py data/DOTA/val/labelTxt data/DOTA/val/images \
        data/dota_rbox/gt_val.json
    python tools/dataset_converters/gt_rboxes.py data/dota_rbox/gt_val.json \
        data/dota_rbox/gt_val_rbox --source polygon
    python tools/analysis_tools/rbox_quality.py data/dota_rbox/pseudo_val/labels.json \
        data/dota_rbox/gt_val_rbox/labels.json

Image and annotation ids are those dota_to_points.py gives the same folder, so the pseudo labels
made from its clicks pair with their own objects.
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.datasets.dota_labels import dota_to_gt_json  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='DOTA labelTxt -> ground-truth COCO json')
    parser.add_argument('label_dir', help='folder of DOTA <stem>.txt labels')
    parser.add_argument('img_dir', help='folder of the images (<stem>.png, .jpg, .tif, ...)')
    parser.add_argument('out_json', help='ground-truth json to write')
    parser.add_argument(
        '--classes',
        nargs='+',
        help='class names, in label order (default: DOTA-v1.0, MMRotate order)',
    )
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    out = dota_to_gt_json(args.label_dir, args.img_dir, args.out_json, classes=args.classes)
    print(
        f'{out["annotations"]} objects ({out["difficult"]} difficult) in {out["images"]} images '
        f'-> {out["json"]}'
    )
    return out


if __name__ == '__main__':
    main()
