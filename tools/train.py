"""Train a model from a config with MMEngine's Runner (mmpointsam and stock MMRotate configs)."""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.logging import print_log  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmpointsam  # noqa: E402,F401  (patches collections for mmrotate, registers modules)
from mmpointsam.utils import add_common_arguments, load_config, set_mixed_precision  # noqa: E402
from mmpointsam.utils.dist import setup_cpu_distributed  # noqa: E402
from mmpointsam.utils.input_checks import check_config_inputs, finish, resume_checkpoint  # noqa: E402
from mmpointsam.utils.process import die_with_parent  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='latest',
        help='resume from this checkpoint; with no value, from the latest one in the work dir '
        '(an error if there is none); "auto": from the latest one if there is one, else from '
        'scratch',
    )
    parser.add_argument(
        '--check-only',
        action='store_true',
        help='check the config, its datasets, images and checkpoints, then exit (0: no fault)',
    )
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument(
        '--bf16',
        action='store_const',
        const='bf16',
        dest='precision',
        help='bf16 mixed precision (BF16OptimWrapper; CPU or GPU)',
    )
    precision.add_argument(
        '--amp',
        action='store_const',
        const='fp16',
        dest='precision',
        help="fp16 mixed precision with a loss scaler (MMEngine's AmpOptimWrapper; GPU only)",
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size',
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    die_with_parent()  # DataLoader workers end with this process, even on kill -9
    cfg = load_config(args)
    setup_cpu_distributed(cfg)  # torchrun without CUDA: gloo, no torch.cuda.set_device
    set_mixed_precision(cfg, args.precision)
    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr'):
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr` in the config')
        cfg.auto_scale_lr.enable = True
    # every input is checked before the model is built and anything written
    resume_from = resume_checkpoint(args.resume, cfg.work_dir)
    if resume_from is not None:
        cfg.resume, cfg.load_from = True, resume_from
    splits = ('train', 'val') if cfg.get('val_cfg') else ('train',)
    report = check_config_inputs(cfg, splits, resume=resume_from)
    finish(report, args.check_only, 'train.py')
    print_log(report.summary(), logger='current')
    if args.resume == 'auto' and resume_from is None:
        print_log(f'--resume auto: no checkpoint in {cfg.work_dir}: from scratch', logger='current')

    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
