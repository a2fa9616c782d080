"""Skip-and-count instead of stop: an iteration whose loss or gradients are NaN/inf updates
nothing (``optim_wrapper.type='SkipNonFiniteOptimWrapper'``); too many such iterations stop.

The default is to stop at the first one (``FiniteLossHook``); this wrapper is the opt-in
alternative for data with rare bad batches. ``FiniteLossHook`` logs each skipped iteration.
"""

from typing import Dict, Optional

import torch
from mmengine import dist
from mmengine.optim import OptimWrapper

from mmpointsam.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that neither back-propagates a non-finite loss nor steps on non-finite
    gradients; all ranks decide together, so DDP stays in step.

    Args:
        max_skips: the run stops (``FloatingPointError``) when more iterations than this have
            been skipped.
    """

    def __init__(self, *args, max_skips: int = 10, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_skips = max_skips
        self.num_skipped = 0
        self.skipped = None  # why the last update_params skipped, or None

    def _all_finite(self, finite: bool) -> bool:
        """True when every process saw finite values (one all-reduce when distributed)."""
        flag = torch.tensor(0 if finite else 1)
        if dist.is_distributed():
            dist.all_reduce(flag, op='max')
        return int(flag) == 0

    def _skip(self, why: str, zero_kwargs: Dict) -> None:
        """Count a skipped iteration and drop its gradients; stop past ``max_skips``."""
        self.skipped = why
        self.num_skipped += 1
        self.optimizer.zero_grad(**zero_kwargs)
        if self.num_skipped > self.max_skips:
            raise FloatingPointError(
                f'{self.num_skipped} iterations skipped for non-finite losses or gradients '
                f'(max_skips={self.max_skips}); the last: {why}. Training stopped.'
            )

    def update_params(
        self,
        loss: torch.Tensor,
        step_kwargs: Optional[Dict] = None,
        zero_kwargs: Optional[Dict] = None,
    ) -> None:
        """Back-propagate and step unless the loss or the gradients are non-finite."""
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        self.skipped = None
        if not self._all_finite(bool(torch.isfinite(loss.detach()).all())):
            self._inner_count += 1  # as backward() would, to keep accumulation in step
            self._skip('non-finite loss', zero_kwargs)
            return
        self.backward(self.scale_loss(loss))
        if self.should_update():
            grads = [
                p.grad
                for group in self.optimizer.param_groups
                for p in group['params']
                if p.grad is not None
            ]
            if not all(bool(torch.isfinite(g).all()) for g in grads):
                self._skip('non-finite gradients', zero_kwargs)
                return
            self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)
