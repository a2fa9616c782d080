"""Stop training at the first non-finite loss, and never save a checkpoint with NaN/inf weights.

Without it a NaN loss trains on (every weight becomes NaN) and the checkpoint hook still saves the
model, even as the "best" one, since empty masks score a finite metric.
"""

import logging
import math
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmpointsam.registry import HOOKS


def _value(value) -> float:
    """A loss term as a float (a tensor's mean; 0 for an empty one)."""
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean()) if value.numel() else 0.0
    return float(value)


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` naming the iteration and the loss terms that are NaN/inf.

    Runs after each training iteration, before any checkpoint of that iteration's weights is
    saved (``CheckpointHook`` has a lower priority), and checks every state dict about to be
    saved (``check_checkpoint``), so a non-finite model is never written, as best or otherwise.
    With ``optim_wrapper.type='SkipNonFiniteOptimWrapper'`` (skip-and-count) an iteration the
    wrapper skipped is logged as a warning instead.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, check_checkpoint: bool = True) -> None:
        self.check_checkpoint = check_checkpoint

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Optional[Dict] = None
    ) -> None:
        """Stop on a non-finite loss term, naming the iteration and the term (log a skip instead
        when a SkipNonFiniteOptimWrapper skipped the iteration)."""
        if not outputs:
            return
        values = {
            k: _value(v) for k, v in outputs.items() if isinstance(v, (torch.Tensor, float, int))
        }
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        terms = ', '.join(f'{k}={v}' for k, v in bad.items())
        where = (
            f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch '
            f'{batch_idx + 1} of the epoch)'
        )
        wrapper = getattr(runner, 'optim_wrapper', None)
        skipped = getattr(wrapper, 'skipped', None)
        if skipped:
            print_log(
                f'skipped {where}: {skipped} {terms}; {wrapper.num_skipped} skipped so far '
                f'(max_skips={wrapper.max_skips})',
                logger='current',
                level=logging.WARNING,
            )
        elif bad:
            raise FloatingPointError(
                f'non-finite loss at {where}: {terms}. Training stopped; no checkpoint '
                'of these weights was saved. Lower the learning rate, check the data of this '
                'batch, or resume from the last checkpoint.'
            )

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse to save a state dict that holds NaN or inf."""
        if not self.check_checkpoint:
            return
        bad = [
            k
            for k, v in checkpoint.get('state_dict', {}).items()
            if isinstance(v, torch.Tensor) and v.is_floating_point() and not torch.isfinite(v).all()
        ]
        if bad:
            raise FloatingPointError(
                f'refusing to save a checkpoint at iteration {getattr(runner, "iter", "?")}: '
                f'{len(bad)} weights hold NaN/inf, e.g. {bad[:3]}'
            )
