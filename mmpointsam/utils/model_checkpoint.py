"""Load a checkpoint saved by ``tools/train.py`` into a whole model, strictly.

MMEngine's ``load_from`` path loads non-strictly and only logs missing keys, so a checkpoint of
another layout would leave a randomly initialised model to be evaluated with exit code 0. A
training checkpoint holds the full ``state_dict`` (frozen SAM weights, LoRA, buffers such as the
PBR prototypes), so every key must match.
"""

import logging

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

# the state-dict keys of a self-training strategy's teacher (its averaged or frozen weights)
TEACHER_PREFIX = 'self_training.teacher.'


def weights_from_checkpoint(cfg: Config) -> Config:
    """Edit ``cfg`` for a model whose weights all come from a training checkpoint: no official
    SAM file (``model.sam.init_cfg``) and no target-prototype file (``PrototypeRegularizer``:
    the checkpoint holds the prototypes as a buffer) are read when the model is built."""
    if cfg.model.get('sam') is not None:
        cfg.model.sam.init_cfg = None

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'PrototypeRegularizer':
                node['target_prototypes'] = None
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg.model)
    return cfg


def load_model_checkpoint(model, filename: str, map_location: str = 'cpu') -> dict:
    """Load ``filename`` into ``model`` (unwrapped from DDP if needed); every key must match.

    Raises:
        RuntimeError: naming the file and the missing, unexpected or mis-shaped keys.
    """
    model = model.module if is_model_wrapper(model) else model
    ckpt = _load_checkpoint(filename, map_location=map_location)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise RuntimeError(f'{filename} holds no state dict (a {type(state).__name__})')
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    try:
        incompatible = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # size mismatches
        raise RuntimeError(f'{filename} does not fit the model of this config: {e}') from None
    missing, unexpected = incompatible.missing_keys, incompatible.unexpected_keys
    mismatched = missing + unexpected
    if mismatched and all(k.startswith(TEACHER_PREFIX) for k in mismatched):
        # a checkpoint of another teacher (the current weights, or an earlier EMA layout)
        # loaded into a model with an averaged one (the PointSAM/ReSAM default since issue 21):
        # nothing of the student is missing; the average restarts from the loaded student
        print_log(
            f'{filename} holds no averaged-teacher weights of this layout ({len(missing)} '
            f'missing and {len(unexpected)} unexpected keys under {TEACHER_PREFIX}): the '
            'teacher starts from the loaded student',
            logger='current',
            level=logging.WARNING,
        )
        teacher = getattr(getattr(model, 'self_training', None), 'teacher', None)
        if isinstance(getattr(teacher, 'started', None), torch.Tensor):
            teacher.started.fill_(False)
        missing, unexpected = [], []
    if missing or unexpected:
        hint = ''
        if any(k.startswith('image_encoder.') for k in unexpected):
            hint = (
                ' It looks like an official SAM/MobileSAM file: give it with '
                '--sam-checkpoint (model.sam.init_cfg) instead.'
            )
        raise RuntimeError(
            f"{filename} is not a checkpoint of this config's model ({type(model).__name__}): "
            f'{len(missing)} missing keys {missing[:5]}, {len(unexpected)} unexpected keys '
            f'{unexpected[:5]}.{hint}'
        )
    return ckpt
