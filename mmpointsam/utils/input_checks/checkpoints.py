"""Checkpoint checks: a torch file is opened as a zip archive (a truncated one has no zip
directory) and memory-mapped, so its keys, shapes and layout are read without its tensors."""

import os.path as osp
import zipfile
from typing import Optional, Tuple

from .report import FaultReport

CHECKPOINT_ROLES = ('sam', 'model', 'resume', 'prototypes', 'any')


def _torch_file_fault(path: str) -> Optional[str]:
    """Missing, empty or truncated torch file, from its size and zip directory alone."""
    if not osp.isfile(path):
        return 'not found'
    size = osp.getsize(path)
    if size == 0:
        return 'empty or truncated checkpoint (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as e:
            return (
                f'empty or truncated checkpoint ({size} bytes; its zip directory is '
                f'unreadable: {e})'
            )
        end = max((i.header_offset + i.compress_size for i in infos), default=0)
        if end > size:
            return f'empty or truncated checkpoint ({size} bytes; its records need {end})'
    elif not head.startswith(b'\x80'):  # neither torch's zip format nor a legacy pickle
        return f'not a torch checkpoint (starts with {head!r})'
    return None


def _read_torch_file(path: str):
    """The object of a torch file without reading its tensors (memory-mapped); MMEngine's own
    types are allowed as in :func:`load_local_checkpoint`."""
    import torch

    from ..checkpoint_loading import mmengine_safe_globals

    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
        except RuntimeError as e:
            if 'mmap' not in str(e):
                raise
            # a legacy (non-zip) file cannot be memory-mapped: read it
            return torch.load(path, map_location='cpu', weights_only=True)


def _weights(obj) -> Tuple[Optional[dict], str]:
    """The weights of a checkpoint object and its kind: 'training' (MMEngine: ``state_dict``
    and ``meta``), 'sam2' (official SAM 2: ``model``) or 'plain' (a bare state dict)."""
    if not isinstance(obj, dict):
        return None, 'other'
    if isinstance(obj.get('state_dict'), dict):
        return obj['state_dict'], 'training'
    if isinstance(obj.get('model'), dict):
        return obj['model'], 'sam2'
    return obj, 'plain'


def _meta_sam(sam_cfg: dict):
    """A SAM of ``sam_cfg`` on the meta device: its keys and shapes, no memory, no weights."""
    import copy

    import torch
    from mmengine.registry import DefaultScope

    from mmpointsam.registry import MODELS

    cfg = copy.deepcopy(dict(sam_cfg))
    cfg['init_cfg'] = None
    with DefaultScope.overwrite_default_scope('mmpointsam'), torch.device('meta'):
        return MODELS.build(cfg)


def _sam_fit_fault(state: dict, sam_cfg: dict, path: str) -> Optional[str]:
    """Does a SAM state dict fit the SAM of ``sam_cfg``? The loader's own test
    (:meth:`PromptableSAMBase.check_state`) on a meta-device SAM, so the message is the one
    loading would give."""
    try:
        sam = _meta_sam(sam_cfg)
    except Exception:  # an arch that cannot be built on the meta device: loading checks it
        return None
    try:
        sam.check_state(state, path)
    except RuntimeError as e:
        return str(e).replace(f'{path} ', '', 1) if str(e).startswith(path) else str(e)
    return None


def check_checkpoint(
    report: FaultReport, path: str, role: str, sam_cfg: Optional[dict] = None, what: str = ''
) -> None:
    """Check a checkpoint file for its ``role``:

    - ``'sam'``: official SAM / MobileSAM / SAM 2 weights for ``model.sam`` (not a training
      checkpoint); with ``sam_cfg``, of that arch and size.
    - ``'model'``: a checkpoint saved by ``tools/train.py`` (``state_dict``), not an official
      SAM file; with ``sam_cfg``, its ``sam.*`` weights fit that SAM.
    - ``'resume'``: a training checkpoint.
    - ``'prototypes'``: a file of ``tools/compute_prototypes.py``.
    - ``'any'``: a readable torch file holding a state dict.
    """
    if role not in CHECKPOINT_ROLES:
        raise ValueError(f'role must be one of {CHECKPOINT_ROLES}, got {role!r}')
    label = what or {'sam': 'SAM checkpoint', 'prototypes': 'target prototypes'}.get(
        role, 'checkpoint'
    )
    if '://' in str(path):
        return  # a URL: read by MMEngine when the model loads
    fault = _torch_file_fault(path)
    if fault == 'not found' and role == 'sam':
        fault = (
            'not found. Download the official file (sam_vit_b_01ec64.pth, mobile_sam.pt, ...) '
            'there, pass --sam-checkpoint PATH, or --sam-checkpoint none for random weights'
        )
    elif fault == 'not found' and role == 'prototypes':
        fault = 'not found: make them with tools/compute_prototypes.py'
    if fault is None:
        try:
            obj = _read_torch_file(path)
        except (EOFError, RuntimeError, OSError, ValueError) as e:
            text = str(e) or type(e).__name__
            fault = (
                f'empty or truncated checkpoint ({text})'
                if isinstance(e, EOFError)
                or any(w in text for w in ('EOF', 'truncat', 'directory'))
                else f'unreadable checkpoint: {text}'
            )
        except Exception as e:  # pickle.UnpicklingError, torch's refusals of unknown globals
            fault = f'unreadable checkpoint ({type(e).__name__}: {e})'
        else:
            fault = _layout_fault(obj, role, sam_cfg, path)
    report.count('checkpoints')
    if fault:
        report.add(path, fault, label)


def _layout_fault(obj, role: str, sam_cfg: Optional[dict], path: str) -> Optional[str]:
    state, kind = _weights(obj)
    if state is not None:  # DataParallel's prefix, as the loaders drop it
        state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    if role == 'prototypes':
        if not (isinstance(obj, dict) and 'prototypes' in obj):
            return (
                'not a target-prototype file (no "prototypes"): make it with '
                'tools/compute_prototypes.py'
            )
        return None
    if state is None:
        return f'holds no state dict (a {type(obj).__name__})'
    if role == 'any':
        return None
    sam_keys = [k for k in state if k.startswith('sam.')]
    official = any(k.startswith('image_encoder.') for k in state)
    if role == 'sam':
        if kind == 'training' or (sam_keys and not official):
            return (
                f'a training checkpoint saved by tools/train.py ({len(sam_keys)} weights under '
                '"sam."), not an official SAM file: give it as the checkpoint of the whole model '
                '(tools/test.py CONFIG CKPT, --checkpoint CKPT)'
            )
        if sam_cfg is not None:
            return _sam_fit_fault(state, sam_cfg, path)
        return None
    if kind != 'training':
        if official:
            return (
                'an official SAM/MobileSAM/SAM 2 file, not a checkpoint saved by tools/train.py: '
                'give it with --sam-checkpoint (model.sam.init_cfg)'
            )
        return 'not a checkpoint saved by tools/train.py (no "state_dict")'
    if role == 'model' and sam_cfg is not None:
        if not sam_keys:
            return 'holds no SAM weights ("sam.*"): not a checkpoint of this config\'s model'
        return _sam_fit_fault({k[4:]: state[k] for k in sam_keys}, sam_cfg, path)
    return None
