"""MMEngine checkpoints under torch's ``weights_only`` loading (the default since torch 2.6).

MMEngine pickles a few non-tensor objects into every checkpoint it saves: the message hub's
``HistoryBuffer`` (numpy arrays inside, and its statistics methods, which pickle as
``getattr(HistoryBuffer, 'mean')``) and numpy scalars in ``meta``. torch's restricted unpickler
refuses them, so ``--resume``, ``load_from`` and ``tools/test.py CKPT`` stop. Rather than
switching the safety off (``weights_only=False`` or the global environment variable), the
local-file loader of MMEngine's ``CheckpointLoader`` is replaced by one that allows exactly those
types for the duration of one ``torch.load``; ``getattr`` is allowed only for a HistoryBuffer's
statistics. Any other class or attribute in a file is still refused.
"""

import os.path as osp
from typing import List

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


def history_buffer_getattr(obj, name: str):
    """``getattr`` as the unpickler may call it: only HistoryBuffer's own public methods (its
    statistics dict holds them as functions, pickled as ``getattr(HistoryBuffer, 'mean')``)."""
    if (
        (obj is HistoryBuffer or isinstance(obj, HistoryBuffer))
        and not name.startswith('_')
        and callable(getattr(HistoryBuffer, name, None))
    ):
        return getattr(obj, name)
    raise RuntimeError(
        f'checkpoint refused: it asks for attribute {name!r} of {obj!r}, '
        'which an MMEngine checkpoint never does'
    )


def mmengine_safe_globals() -> List[object]:
    """What MMEngine's checkpoints need beyond tensors and containers, for the unpickler."""
    np_core = getattr(np, '_core', None) or np.core
    allowed = [HistoryBuffer, np.ndarray, np.dtype, (history_buffer_getattr, 'builtins.getattr')]
    # numpy 2 renamed numpy.core to numpy._core; files of either name load with either numpy
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed += [
            (np_core.multiarray._reconstruct, f'{module}._reconstruct'),
            (np_core.multiarray.scalar, f'{module}.scalar'),
        ]
    # numpy >= 1.25 may pickle a dtype through its class (numpy.dtypes.Float64DType, ...)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return allowed


def load_local_checkpoint(filename: str, map_location=None):
    """``torch.load`` with ``weights_only=True`` and MMEngine's own types allowed."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        return torch.load(filename, map_location=map_location, weights_only=True)


def register_checkpoint_loader() -> None:
    """Make ``load_local_checkpoint`` MMEngine's loader for local paths (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
