"""Check every input of a run without building a model: the config (and its --cfg-options), the
annotation files and images of its datasets, a point-label json and its images, checkpoints.
Prints every fault found (file, record, value) and exits 1, or 0 when there is none.

    python tools/misc/check_inputs.py configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py
    python tools/misc/check_inputs.py configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py \
        --splits test --checkpoint work_dirs/pointsam_nwpu/epoch_10.pth
    python tools/misc/check_inputs.py configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py \
        --splits --points data/nwpu_vhr10_rbox/points_train.json --img-dir data/nwpu_vhr10/images

The tools run the same check first (tools/train.py, test.py, point2rbox.py and
compute_prototypes.py also take --check-only).
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config, DictAction  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.utils import set_sam_checkpoint  # noqa: E402
from mmpointsam.utils.config import merge_cfg_options  # noqa: E402
from mmpointsam.utils.input_checks import (  # noqa: E402
    FaultReport,
    InputError,
    check_config_inputs,
    check_point_json,
    finish,
    resume_checkpoint,
)

SPLITS = ('train', 'val', 'test')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--splits',
        nargs='*',
        choices=SPLITS,
        help='datasets to check (default: every split the config has); none: only the rest',
    )
    parser.add_argument('--points', help='a point-label json (tools/point2rbox.py input)')
    parser.add_argument('--img-dir', help='the images of --points')
    parser.add_argument('--checkpoint', help='a checkpoint saved by tools/train.py')
    parser.add_argument(
        '--sam-checkpoint', help='SAM/MobileSAM checkpoint for model.sam ("none": random weights)'
    )
    parser.add_argument('--resume', nargs='?', const='latest', help="as tools/train.py's --resume")
    parser.add_argument('--work-dir', help='the work dir of --resume')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.points and not args.img_dir:
        parser.error('--points needs --img-dir')
    return args


def main(argv=None) -> FaultReport:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    report = FaultReport()
    try:
        merge_cfg_options(cfg, args.cfg_options)
    except ValueError as e:
        report.add(args.config, str(e))
    if args.sam_checkpoint is not None:
        set_sam_checkpoint(cfg, args.sam_checkpoint)
    work_dir = (
        args.work_dir
        or cfg.get('work_dir')
        or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    )
    resume = None
    try:
        resume = resume_checkpoint(args.resume, work_dir)
    except InputError as e:
        report.add(work_dir, str(e))
    splits = args.splits if args.splits is not None else SPLITS
    if args.points:
        check_point_json(report, args.points, args.img_dir)
    check_config_inputs(cfg, splits, args.checkpoint, resume=resume, report=report)
    finish(report, check_only=True, tool='check_inputs.py')


if __name__ == '__main__':
    main()
