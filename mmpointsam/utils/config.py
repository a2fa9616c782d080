"""Config edits shared by the command-line tools."""

import os.path as osp
from typing import Any, Optional

from mmengine.config import Config, ConfigDict

from .stack import check_stack


def _walk(node: Any, fn) -> None:
    """Call ``fn`` on every dict nested in ``node``."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            _walk(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, fn)


def set_num_points(cfg: Config, num_points: int, num_neg_points: Optional[int] = None) -> int:
    """Set the point count of every ``SamplePointPrompts`` in ``cfg``; returns how many changed.

    The 1/2/3-point switch of the papers' tables. Negatives follow positives unless given.
    """
    changed = 0

    def visit(node: dict) -> None:
        nonlocal changed
        if node.get('type') == 'SamplePointPrompts':
            node['num_points'] = num_points
            node['num_neg_points'] = num_neg_points
            changed += 1

    _walk(cfg._cfg_dict if isinstance(cfg, Config) else cfg, visit)
    if not changed:
        raise ValueError('the config has no SamplePointPrompts transform to set --num-points on')
    return changed


def set_sam_checkpoint(cfg: Config, checkpoint: Optional[str]) -> None:
    """Point ``model.sam.init_cfg`` at a SAM checkpoint (``None``/``'none'``: random weights)."""
    if checkpoint is None or str(checkpoint).lower() == 'none':
        cfg.model.sam.init_cfg = None
    else:
        cfg.model.sam.init_cfg = ConfigDict(type='Pretrained', checkpoint=checkpoint)


def apply_num_points(cfg: Config) -> None:
    """Make a config's top-level ``num_points`` (if any) the count of every SamplePointPrompts.

    Lets a thin config (``num_points = 3``) or ``--cfg-options num_points=3`` switch the point
    count without restating pipelines.
    """
    if cfg.get('num_points') is not None:
        set_num_points(cfg, int(cfg.num_points))


def set_mixed_precision(cfg: Config, precision: Optional[str], cuda: Optional[bool] = None) -> None:
    """Switch ``cfg.optim_wrapper`` to mixed precision: ``'bf16'`` (``BF16OptimWrapper``, CPU or
    GPU, no loss scaler) or ``'fp16'`` (MMEngine's ``AmpOptimWrapper`` with a dynamic loss scale,
    which MMEngine runs on GPUs only); None leaves it as it is."""
    if precision is None:
        return
    if not cfg.get('optim_wrapper'):
        raise ValueError(f'{precision} mixed precision needs a training config with optim_wrapper')
    if precision == 'bf16':
        cfg.optim_wrapper.type = 'BF16OptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    elif precision == 'fp16':
        if cuda is None:
            import torch

            cuda = torch.cuda.is_available()
        if not cuda:
            raise RuntimeError(
                "--amp is fp16 autocast with a loss scaler (MMEngine's "
                'AmpOptimWrapper), which needs a GPU; on a CPU use --bf16'
            )
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        raise ValueError(f"precision must be None, 'bf16' or 'fp16', got {precision!r}")


def add_common_arguments(parser) -> None:
    """Arguments that tools/train.py, tools/test.py and friends share."""
    from mmengine.config import DictAction

    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics')
    parser.add_argument(
        '--num-points',
        type=int,
        choices=(1, 2, 3),
        help='positive (and negative) point prompts per instance',
    )
    parser.add_argument(
        '--sam-checkpoint', help='SAM/MobileSAM checkpoint for model.sam ("none": random weights)'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (e.g. train_cfg.max_epochs=1)',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args) -> Config:
    """Read ``args.config`` and apply the common arguments (see :func:`add_common_arguments`).

    Stops first when the installed stack is not the tested one (:func:`check_stack`).
    """
    check_stack()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.num_points is not None:
        cfg.num_points = args.num_points
    apply_num_points(cfg)
    if args.sam_checkpoint is not None:
        set_sam_checkpoint(cfg, args.sam_checkpoint)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg
