"""Evaluate a model with MMEngine's Runner, e.g. Direct SAM or a trained PointSAM checkpoint."""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.logging import print_log  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmpointsam  # noqa: E402,F401  (patches collections for mmrotate, registers modules)
from mmpointsam.utils import add_common_arguments, load_config  # noqa: E402
from mmpointsam.utils.dist import setup_cpu_distributed  # noqa: E402
from mmpointsam.utils.input_checks import check_config_inputs, finish  # noqa: E402
from mmpointsam.utils.model_checkpoint import load_model_checkpoint, weights_from_checkpoint  # noqa: E402
from mmpointsam.utils.process import die_with_parent  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='a checkpoint saved by tools/train.py; omit it to evaluate the weights named by the '
        "config's init_cfg (Direct SAM)",
    )
    parser.add_argument('--out', help='dump the predictions to this pickle file')
    parser.add_argument(
        '--check-only',
        action='store_true',
        help='check the config, its test dataset, images and checkpoints, then exit (0: no fault)',
    )
    parser.add_argument(
        '--batch-size',
        type=int,
        help='images per forward (the image encoder takes them in one call); default: the '
        "config's test_dataloader.batch_size",
    )
    parser.add_argument(
        '--workers', type=int, help='DataLoader workers decoding the test images (default: config)'
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def set_test_loader(cfg, batch_size, workers) -> None:
    """``--batch-size`` / ``--workers`` into the test dataloader (None keeps the config's)."""
    loader = cfg.test_dataloader
    if batch_size is not None:
        if batch_size < 1:
            raise ValueError(f'--batch-size must be >= 1, got {batch_size}')
        loader.batch_size = batch_size
    if workers is not None:
        loader.num_workers = workers
        loader.persistent_workers = workers > 0 and loader.get('persistent_workers', False)


def main():
    args = parse_args()
    die_with_parent()  # DataLoader workers end with this process, even on kill -9
    cfg = load_config(args)
    setup_cpu_distributed(cfg)  # torchrun without CUDA: gloo, no torch.cuda.set_device
    set_test_loader(cfg, args.batch_size, args.workers)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError('--out must be a .pkl file')
    # every input is checked before the model is built and anything written
    report = check_config_inputs(cfg, ('test',), args.checkpoint)
    finish(report, args.check_only, 'test.py')
    print_log(report.summary(), logger='current')
    # a training checkpoint holds every weight: no SAM or prototype file is read, and it is
    # loaded strictly below (MMEngine's load_from would load it non-strictly)
    cfg.load_from = None
    if args.checkpoint is not None:
        weights_from_checkpoint(cfg)
    if args.out is not None:
        cfg.test_evaluator = (
            [cfg.test_evaluator]
            if isinstance(cfg.test_evaluator, dict)
            else list(cfg.test_evaluator)
        )
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))

    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if args.checkpoint is not None:
        load_model_checkpoint(model, args.checkpoint)
        runner.logger.info(f'loaded {args.checkpoint} strictly (every weight of the model)')
    else:
        # Runner.test() does not initialise weights (only train() does): do it here so that
        # the pretrained SAM named by init_cfg is loaded
        model.init_weights()
    runner.test()


if __name__ == '__main__':
    main()
