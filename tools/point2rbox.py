"""Point labels -> rotated-box pseudo labels (COCO json with 4-corner polygons + DOTA txt).

    python tools/point2rbox.py configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py \
        data/nwpu_vhr10_rbox/points_train.json data/nwpu_vhr10/images \
        data/nwpu_vhr10_rbox/pseudo_train --sam-checkpoint checkpoints/mobile_sam.pt

A rerun with the same arguments skips the images already done (resume).
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402

import mmpointsam  # noqa: E402,F401  (collections shim before mmrotate)
from mmpointsam.apis import point2rbox  # noqa: E402
from mmpointsam.structures import RBOX_METHODS  # noqa: E402
from mmpointsam.utils import set_sam_checkpoint  # noqa: E402
from mmpointsam.utils.config import merge_cfg_options  # noqa: E402
from mmpointsam.utils.input_checks import check_point2rbox_inputs, finish  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Turn point labels into rotated-box pseudo labels with SAM / PointSAM'
    )
    parser.add_argument('config', help='a SAM/PointSAM config (its model is used)')
    parser.add_argument('point_json', help='point-label json (sample_point_labels.py makes one)')
    parser.add_argument('img_dir', help='folder of the images named in the json')
    parser.add_argument('out_dir', help='output folder: labels.json and annfiles/*.txt')
    parser.add_argument('--checkpoint', help='a PointSAM checkpoint saved by tools/train.py')
    parser.add_argument(
        '--sam-checkpoint',
        help='official SAM/MobileSAM weights for model.sam; "none": RANDOM weights (plumbing '
        "only, the boxes mean nothing); default: the config's init_cfg",
    )
    parser.add_argument(
        '--method',
        choices=RBOX_METHODS,
        default='largest',
        help='min-area rectangle of the largest mask component or of all pixels',
    )
    parser.add_argument(
        '--npc-iou-thr', type=float, default=0.1, help='Negative Prompt Calibration IoU threshold'
    )
    parser.add_argument('--no-npc', action='store_true', help='no Negative Prompt Calibration')
    parser.add_argument(
        '--npc-max-negatives',
        type=int,
        default=8,
        help='NPC negatives per calibrated click, from the most-overlapping '
        'instances (keeps dense scenes linear); 0: all of them (the paper)',
    )
    parser.add_argument(
        '--no-resume', action='store_true', help='start afresh, removing earlier outputs in out_dir'
    )
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--img-ids', type=int, nargs='+', help='convert only these image ids of the json (a subset)'
    )
    parser.add_argument(
        '--max-images', type=int, help='convert only the first N images (after --img-ids)'
    )
    parser.add_argument('--seed', type=int, default=0, help='torch seed (random weights)')
    parser.add_argument(
        '--check-only',
        action='store_true',
        help='check the config, the point json, its images and the checkpoints, then exit '
        '(0: no fault)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.sam.img_size=512',
    )
    return parser.parse_args()


def check_inputs(args) -> None:
    """Every input, before the model is built and anything written (--check-only: just this)."""
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    if args.sam_checkpoint is not None:
        set_sam_checkpoint(cfg, args.sam_checkpoint)
    report = check_point2rbox_inputs(
        cfg, args.point_json, args.img_dir, args.checkpoint, img_ids=args.img_ids
    )
    finish(report, args.check_only, 'point2rbox.py')
    print(f'point2rbox: {report.summary()}')


def main():
    args = parse_args()
    check_inputs(args)
    if args.sam_checkpoint is not None and args.sam_checkpoint.lower() == 'none':
        print(
            'point2rbox: --sam-checkpoint none: SAM has RANDOM weights; this checks the '
            'plumbing only, the boxes mean nothing.'
        )
    point2rbox(
        args.config,
        args.point_json,
        args.img_dir,
        args.out_dir,
        checkpoint=args.checkpoint,
        sam_checkpoint=args.sam_checkpoint,
        method=args.method,
        npc_iou_thr=None if args.no_npc else args.npc_iou_thr,
        device=args.device,
        resume=not args.no_resume,
        seed=args.seed,
        cfg_options=args.cfg_options,
        npc_max_negatives=args.npc_max_negatives or None,
        img_ids=args.img_ids,
        max_images=args.max_images,
    )


if __name__ == '__main__':
    main()
