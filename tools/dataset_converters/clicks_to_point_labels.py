"""Turn a click file (CSV ``image,x,y,class`` or COCO keypoints json) into the point-label json
that training from clicks (the `-clicks` configs), tools/compute_prototypes.py and
tools/point2rbox.py read. No mask is needed or written.

    python tools/dataset_converters/clicks_to_point_labels.py clicks.csv \
        data/nwpu_vhr10/clicks/train.json --img-dir data/nwpu_vhr10/images
    python tools/dataset_converters/clicks_to_point_labels.py person_keypoints.json OUT.json \
        [--keypoint nose]
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.datasets.click_sources import coco_keypoints_to_point_labels, csv_to_point_labels  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src', help='clicks: .csv (image,x,y,class[,object]) or COCO keypoints .json'
    )
    parser.add_argument('out_json', help='point-label json to write')
    parser.add_argument('--img-dir', help='images of a CSV (their sizes are read)')
    parser.add_argument('--classes', nargs='+', help='CSV class order (category ids 1..K)')
    parser.add_argument('--keypoint', help='COCO keypoints: use only this named keypoint')
    args = parser.parse_args(argv)
    if args.src.lower().endswith('.csv') and not args.img_dir:
        parser.error('a CSV needs --img-dir to read the image sizes')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.src.lower().endswith('.csv'):
        summary = csv_to_point_labels(args.src, args.img_dir, args.out_json, args.classes)
    else:
        summary = coco_keypoints_to_point_labels(args.src, args.out_json, args.keypoint)
    print(
        f'{summary["num_instances"]} objects of {summary["num_images"]} images written to '
        f'{summary["out"]}'
    )
    return summary


if __name__ == '__main__':
    main()
