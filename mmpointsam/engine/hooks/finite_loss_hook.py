"""Stop training at the first non-finite loss, and never save a checkpoint with NaN/inf weights.

Without it a NaN loss trains on (every weight becomes NaN) and the checkpoint hook still saves the
model, even as the "best" one, since empty masks score a finite metric.
"""
import math
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook

from mmpointsam.registry import HOOKS


def _value(value) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean()) if value.numel() else 0.0
    return float(value)


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` naming the iteration and the loss terms that are NaN/inf.

    Runs after each training iteration, before any checkpoint of that iteration's weights is
    saved (``CheckpointHook`` has a lower priority), and checks every state dict about to be
    saved (``check_checkpoint``), so a non-finite model is never written, as best or otherwise.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, check_checkpoint: bool = True) -> None:
        self.check_checkpoint = check_checkpoint

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        if not outputs:
            return
        values = {k: _value(v) for k, v in outputs.items()
                  if isinstance(v, (torch.Tensor, float, int))}
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            terms = ', '.join(f'{k}={v}' for k, v in bad.items())
            raise FloatingPointError(
                f'non-finite loss at iteration {runner.iter + 1} (epoch {runner.epoch + 1}, '
                f'batch {batch_idx + 1} of the epoch): {terms}. Training stopped; no checkpoint '
                'of these weights was saved. Lower the learning rate, check the data of this '
                'batch, or resume from the last checkpoint.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.check_checkpoint:
            return
        bad = [k for k, v in checkpoint.get('state_dict', {}).items()
               if isinstance(v, torch.Tensor) and v.is_floating_point()
               and not torch.isfinite(v).all()]
        if bad:
            raise FloatingPointError(
                f'refusing to save a checkpoint at iteration {getattr(runner, "iter", "?")}: '
                f'{len(bad)} weights hold NaN/inf, e.g. {bad[:3]}')
