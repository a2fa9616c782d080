"""Train a model from a config with MMEngine's Runner (mmpointsam and stock MMRotate configs)."""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmpointsam  # noqa: E402,F401  (patches collections for mmrotate, registers modules)
from mmpointsam.utils import add_common_arguments, load_config, set_mixed_precision  # noqa: E402
from mmpointsam.utils.dist import setup_cpu_distributed  # noqa: E402
from mmpointsam.utils.process import die_with_parent  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; with no value, from the latest one in the work dir',
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
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
