"""Config edits shared by the command-line tools."""

import ast
import os.path as osp
from typing import Any, List, Optional, Tuple

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


def add_num_points_argument(parser) -> None:
    """``--num-points``: the 1/2/3-point switch that :func:`set_num_points` applies."""
    parser.add_argument(
        '--num-points',
        type=int,
        choices=(1, 2, 3),
        help='positive (and negative) point prompts per instance',
    )


def add_common_arguments(parser) -> None:
    """Arguments that tools/train.py, tools/test.py and friends share."""
    from mmengine.config import DictAction

    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics')
    add_num_points_argument(parser)
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


# top-level variables that the tools apply after loading (apply_num_points), so that setting
# them in --cfg-options takes effect although the config used them when it was read
APPLIED_AFTER_LOAD = ('num_points',)


def config_files(filename: str) -> List[str]:
    """A config file and all its ``_base_`` files, recursively (MMEngine's own resolution,
    ``pkg::path`` bases of installed packages included)."""
    files, todo = [], [osp.abspath(filename)]
    while todo:
        path = todo.pop(0)
        if path in files or not path.endswith('.py') or not osp.isfile(path):
            continue
        files.append(path)
        for base in Config._get_base_files(path):
            todo.append(osp.abspath(Config._get_cfg_path(base, path)[0]))
    return files


def _uses(node: ast.AST, name: str, path: Tuple[str, ...], found: list, direct: bool) -> None:
    """Collect (dotted key, direct) of the places where ``name`` is read inside ``node``:
    ``direct`` when the value is the variable itself, not an expression of it."""
    if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
        found.append(('.'.join(path), direct))
        return
    if (  # {{_base_.name}} and _base_.name
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == '_base_'
        and node.attr == name
    ):
        found.append(('.'.join(path), direct))
        return
    if isinstance(node, ast.Set) and len(node.elts) == 1:  # the braces of {{_base_.x}}
        _uses(node.elts[0], name, path, found, direct)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        for kw in node.keywords:
            sub = path + (kw.arg,) if kw.arg else path
            _uses(kw.value, name, sub, found, direct and kw.arg is not None)
        for arg in node.args:
            _uses(arg, name, path, found, False)
        return
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                _uses(value, name, path + (key.value,), found, direct)
            else:
                _uses(value, name, path, found, False)
        return
    if isinstance(node, (ast.List, ast.Tuple)):
        for i, value in enumerate(node.elts):
            _uses(value, name, path + (str(i),), found, direct)
        return
    for child in ast.iter_child_nodes(node):
        _uses(child, name, path, found, False)


def consumed_variable_uses(filename: str, name: str) -> List[Tuple[str, str, bool]]:
    """Where the files of a config (:func:`config_files`) read the top-level variable ``name``
    while the config is evaluated: (file, dotted key of the value, whether it is the variable
    itself). MMEngine evaluates those uses once, when the file is read, so a later change of the
    variable does not reach them."""
    uses = []
    for path in config_files(filename):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for stmt in tree.body:
            found = []
            if isinstance(stmt, ast.Assign):
                targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                if targets == ['_base_']:
                    continue
                for target in targets or ['']:
                    _uses(stmt.value, name, (target,) if target else (), found, True)
            else:
                _uses(stmt, name, (), found, False)
            uses.extend((path, key, direct) for key, direct in found)
    return uses


_MISSING = object()


def _get(cfg, dotted: str):
    """The value at a dotted key (list indices as numbers), or ``_MISSING``."""
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in dotted.split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def effective_uses(cfg: Config, name: str, _seen: frozenset = frozenset()) -> List[tuple]:
    """Where the top-level variable ``name`` ended up in the loaded ``cfg``: (file, dotted key,
    direct) of :func:`consumed_variable_uses`, followed through variables that are themselves
    used elsewhere (``max_train_instances`` -> ``train_pipeline.3.max_instances`` ->
    ``train_dataloader.dataset.pipeline.3.max_instances``), keeping the keys that still exist
    (a direct use: still holding the variable's value)."""
    value = _get(cfg, name)
    out = []
    for file, key, direct in consumed_variable_uses(cfg.filename, name):
        head, _, rest = key.partition('.')
        if key and head not in _seen | {name} and consumed_variable_uses(cfg.filename, head):
            # a variable itself: where it ended up (nowhere: this use is dead)
            for _, sub, sub_direct in effective_uses(cfg, head, _seen | {name}):
                out.append((file, f'{sub}.{rest}' if rest and sub else sub, direct and sub_direct))
            continue
        found = _get(cfg, key) if key else _MISSING
        if not key or (
            found is not _MISSING and (not direct or value is _MISSING or found == value)
        ):
            out.append((file, key, direct))
    return out


def check_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """Refuse a ``--cfg-options`` key whose first part is a top-level variable that the config
    read while it was loaded (e.g. ``max_epochs``, used in ``train_cfg.max_epochs``): the
    override would be saved in the config and silently change nothing. The error names the
    keys to set instead. Variables the tools apply after loading (:data:`APPLIED_AFTER_LOAD`)
    and uses the options set as well are allowed.

    Raises:
        ValueError: naming the option, the file that used it and the keys to set.
    """
    if not options or not isinstance(cfg.filename, str):
        return
    faults = []
    for key, value in options.items():
        name = key.split('.')[0]
        if name in APPLIED_AFTER_LOAD:
            continue
        raw = consumed_variable_uses(cfg.filename, name)
        if not raw:
            continue
        uses = list(dict.fromkeys(effective_uses(cfg, name)))
        pending = [u for u in uses if u[1] not in options]
        if uses and not pending:
            continue  # every place that took the variable is set as well
        files = ', '.join(sorted({osp.relpath(f) for f, _, _ in (pending or raw)}))
        keys = list(dict.fromkeys(u for _, u, _ in pending if u))
        direct = list(dict.fromkeys(u for _, u, d in pending if u and d))
        computed = [k for k in dict.fromkeys(u for _, u, d in pending if u and not d)]
        text = str(value).replace(' ', '')
        fault = (
            f'--cfg-options {key}={text}: {name!r} is a variable that {files} used when the '
            f'config was read' + (f' (in {", ".join(keys)})' if keys else '') + ', so changing '
            'it now changes nothing there.'
        )
        if not pending:
            fault += ' No key of the loaded config holds it: the option has no effect.'
        if direct:
            fault += ' Set ' + ' '.join(f'{k}={text}' for k in direct) + ' instead'
            fault += f', and {", ".join(computed)} (computed from it).' if computed else '.'
        elif computed:
            fault += f' Set {", ".join(computed)} (computed from it) instead.'
        faults.append(fault)
    if faults:
        raise ValueError('\n'.join(faults))


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """``cfg.merge_from_dict(options)`` after :func:`check_cfg_options`."""
    if options:
        check_cfg_options(cfg, options)
        cfg.merge_from_dict(options)


def load_config(args) -> Config:
    """Read ``args.config`` and apply the common arguments (see :func:`add_common_arguments`).

    Stops first when the installed stack is not the tested one (:func:`check_stack`), and on a
    ``--cfg-options`` key that would change nothing (:func:`check_cfg_options`).
    """
    check_stack()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
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
