"""Quality of rotated-box (pseudo) labels against ground-truth rotated boxes.

    python tools/analysis_tools/rbox_quality.py data/nwpu_vhr10_rbox/pseudo_train/labels.json \
        data/nwpu_vhr10_rbox/gt_train/labels.json

Per class: mean rotated IoU with the paired GT box, fractions at IoU >= 0.5 / 0.75, and
MMRotate's rotated AP of the labels taken as detections; then the same IoU figures per class and
object size (GT box area: small < 32^2, medium < 96^2, large).
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.evaluation.functional import (  # noqa: E402
    format_quality_table,
    format_size_table,
    rbox_label_quality,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Rotated-box label quality')
    parser.add_argument('labels', help='rotated-box COCO json to rate (e.g. pseudo labels)')
    parser.add_argument('gt', help='ground-truth rotated-box COCO json (gt_rboxes.py)')
    parser.add_argument('--iou-thrs', type=float, nargs='+', default=[0.5, 0.75])
    parser.add_argument('--map-iou-thr', type=float, default=0.5)
    parser.add_argument(
        '--mmcv-iou',
        action='store_true',
        help="mAP with mmcv's box_iou_rotated, as MMRotate ships it (it "
        'misjudges some boxes with collinear edges); default: exact IoU',
    )
    parser.add_argument(
        '--area',
        action='store_true',
        help='area under the PR curve instead of VOC07 11 points (DOTAMetric)',
    )
    return parser.parse_args()


def main():
    args = parse_args()
    result = rbox_label_quality(
        args.labels,
        args.gt,
        iou_thrs=args.iou_thrs,
        map_iou_thr=args.map_iou_thr,
        use_07_metric=not args.area,
        exact_iou=not args.mmcv_iou,
    )
    print(
        f'labels: {args.labels}\nground truth: {args.gt}\n{result["num_images"]} images, '
        f'paired by {result["pairing"]}; exact polygon IoU; AP: MMRotate eval_rbbox_map '
        f'({"area" if args.area else "VOC07 11 points"}, le90 on both sides, '
        f'{"mmcv box_iou_rotated" if args.mmcv_iou else "exact IoU"})'
    )
    print(format_quality_table(result))
    print('by object size (GT box area: small < 32^2, medium < 96^2, large):')
    print(format_size_table(result))


if __name__ == '__main__':
    main()
