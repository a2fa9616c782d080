"""What the proxy benchmark's tests share: where things lie, the script loaded as a module, and
the arguments of a ``--quick`` run on the repository's small NWPU sample."""

import importlib.util
import os.path as osp

PROJECT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(osp.dirname(PROJECT))
NWPU = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'


def load_tool(name):
    """``projects/proxy_shift/tools/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, osp.join(PROJECT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quick_args(work):
    """A ``--quick`` run into ``work`` on tests/data/nwpu_vhr10 (no validation part)."""
    return [
        '--quick',
        '--work-dir',
        str(work),
        '--nwpu-root',
        NWPU.rstrip('/'),
        '--train-ann',
        'annotations/train.json',
        '--test-ann',
        'annotations/val.json',
        '--val-ratio',
        '0',
    ]
