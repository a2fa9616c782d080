"""Teachers of self-training: which weights make the pseudo masks on the weak view."""

import contextlib
from typing import Any, Dict, Iterator, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from mmpointsam.registry import MODELS


@MODELS.register_module()
class CurrentWeightsTeacher(nn.Module):
    """The published variant: the teacher is the student's current weights (under no_grad)."""

    def setup(self, sam: nn.Module) -> None:
        """Nothing to build."""

    def update(self, sam: nn.Module) -> None:
        """Nothing to track."""

    @contextlib.contextmanager
    def model(self, sam: nn.Module) -> Iterator[nn.Module]:
        yield sam


def _swap_parameters(module: nn.Module, tensors: Dict[str, torch.Tensor]) -> Dict[str, Any]:
    """Put ``tensors`` in the parameter slots of ``module`` named by their keys; returns what
    was there, for :func:`_swap_parameters` to put back."""
    old = {}
    for name, tensor in tensors.items():
        owner, _, attr = name.rpartition('.')
        slots = module.get_submodule(owner)._parameters
        old[name], slots[attr] = slots[attr], tensor
    return old


@MODELS.register_module()
class EMATeacher(nn.Module):
    """A teacher whose trained weights are an exponential moving average of the student's.

    A slow teacher breaks the loop in which the student learns its own answers' bleed and
    labels it again (on the proxy's dense target the current-weights teacher's masks grew 4-12
    times their first area). Only the parameters that train (with LoRA: the adapters) are
    averaged; the frozen ones are the same in both, so the teacher runs the student's module
    with the averages in those parameters' places (no second SAM in memory or in checkpoints).
    The averages start from the student's weights at the first iteration (after pretrained
    weights were loaded) and are buffers of this module, so checkpoints and ``--resume`` keep
    them.

    Args:
        momentum: MMEngine's EMA momentum: ``avg = (1 - momentum) * avg + momentum * weights``
            (None: 0.001 unless ``run_fraction`` is given).
        run_fraction: instead of ``momentum``, the average's time constant as a share of the
            run: ``momentum = 1 / (run_fraction * max_iters)``, with ``max_iters`` read from
            MMEngine's message hub (``RuntimeInfoHook``) at the first iteration, so that one
            config lags by the same share of a short or a long schedule.
    """

    def __init__(
        self, momentum: Optional[float] = None, run_fraction: Optional[float] = None
    ) -> None:
        super().__init__()
        if momentum is not None and run_fraction is not None:
            raise ValueError(
                'EMATeacher takes momentum or run_fraction, not both '
                f'(got {momentum} and {run_fraction}); set the other to None'
            )
        if run_fraction is not None and not 0.0 < run_fraction <= 1.0:
            raise ValueError(f'run_fraction must be in (0, 1], got {run_fraction}')
        if momentum is not None and not 0.0 < momentum <= 1.0:
            raise ValueError(f'momentum must be in (0, 1], got {momentum}')
        self.run_fraction = run_fraction
        self.momentum = 0.001 if momentum is None and run_fraction is None else momentum
        self.names: List[str] = []  # the student's trained parameters, averaged here
        self.register_buffer('started', torch.zeros((), dtype=torch.bool))

    @staticmethod
    def _key(name: str) -> str:
        """The buffer holding the average of parameter ``name`` (buffer names have no dots)."""
        return 'avg__' + name.replace('.', '__')

    def setup(self, sam: nn.Module) -> None:
        """One buffer per trained parameter of ``sam``; called once by the segmentor."""
        self.names = [n for n, p in sam.named_parameters() if p.requires_grad]
        params = dict(sam.named_parameters())
        for name in self.names:
            self.register_buffer(self._key(name), torch.zeros_like(params[name].detach()))

    def averages(self) -> Dict[str, torch.Tensor]:
        """The averaged weights by the student's parameter names."""
        return {name: getattr(self, self._key(name)) for name in self.names}

    def _fit_to_run(self) -> None:
        """Set the momentum from the run's length (``run_fraction``), once."""
        if self.momentum is not None:
            return
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if not max_iters:
            raise RuntimeError(
                "EMATeacher(run_fraction=...) reads the run length (max_iters) from MMEngine's "
                'message hub, which only a Runner fills; outside one, give momentum instead'
            )
        self.momentum = min(1.0, 1.0 / (self.run_fraction * max_iters))

    @torch.no_grad()
    def _start(self, sam: nn.Module) -> bool:
        """Copy the student's weights into the averages, once; True if it did."""
        if bool(self.started):
            return False
        params = dict(sam.named_parameters())
        for name, avg in self.averages().items():
            avg.copy_(params[name])
        self.started.fill_(True)
        return True

    @torch.no_grad()
    def update(self, sam: nn.Module) -> None:
        """Fold the student's latest weights into the average (once per iteration; the first
        iteration copies them)."""
        self._fit_to_run()
        if self._start(sam):
            return
        params = dict(sam.named_parameters())
        for name, avg in self.averages().items():
            avg.lerp_(params[name].to(avg.dtype), self.momentum)

    @contextlib.contextmanager
    def model(self, sam: nn.Module) -> Iterator[nn.Module]:
        """``sam`` with the averages in its trained parameters' places (plain tensors that need
        no gradient, so no autocast cast of them outlives the teacher's pass)."""
        self._start(sam)
        old = _swap_parameters(sam, self.averages())
        try:
            yield sam
        finally:
            _swap_parameters(sam, old)


@MODELS.register_module()
class FrozenTeacher(EMATeacher):
    """The starting weights, frozen: the public PointSAM code's plain self-training baseline
    makes its pseudo masks with a copy of SAM taken before training. A copy of the student's
    trained weights at the first iteration that is never updated; it lives in the state dict, so
    ``--resume`` keeps it."""

    def __init__(self) -> None:
        super().__init__(momentum=0.5)  # the average is never updated, the value is unused

    def update(self, sam: nn.Module) -> None:
        """Take the copy at the first iteration; never fold the student in afterwards."""
        self._start(sam)
