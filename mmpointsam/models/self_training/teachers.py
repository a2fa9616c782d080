"""Teachers of self-training: which weights make the pseudo masks on the weak view."""

import contextlib
from typing import Iterator, Optional

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import ExponentialMovingAverage

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


@MODELS.register_module()
class EMATeacher(nn.Module):
    """A teacher whose weights are MMEngine's exponential moving average of the student's.

    The average is a copy of SAM that starts from the student's weights at the first iteration
    (after pretrained weights were loaded) and lives in the model's state dict, so checkpoints
    and ``--resume`` keep it. A slow teacher breaks the loop in which the student learns its own
    answers' bleed and labels it again (on the proxy's dense target the current-weights
    teacher's masks grew 4-12 times their first area).

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
        self.ema = None
        self.register_buffer('started', torch.zeros((), dtype=torch.bool))

    def setup(self, sam: nn.Module) -> None:
        """Create the average (a frozen copy of ``sam``); called once by the segmentor."""
        # with run_fraction the momentum is set at the first update (_fit_to_run)
        momentum = 0.001 if self.momentum is None else self.momentum
        self.ema = ExponentialMovingAverage(sam, momentum=momentum, update_buffers=True)
        self.ema.requires_grad_(False)

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
        self.ema.momentum = self.momentum

    def _start(self, sam: nn.Module) -> None:
        if not bool(self.started):
            self.ema.module.load_state_dict(sam.state_dict())
            self.started.fill_(True)

    def update(self, sam: nn.Module) -> None:
        """Fold the student's latest weights into the average (once per iteration)."""
        self._fit_to_run()
        self._start(sam)
        self.ema.update_parameters(sam)

    @contextlib.contextmanager
    def model(self, sam: nn.Module) -> Iterator[nn.Module]:
        self._start(sam)
        yield self.ema.module


@MODELS.register_module()
class FrozenTeacher(EMATeacher):
    """The starting weights, frozen: the public PointSAM code's plain self-training baseline
    makes its pseudo masks with a copy of SAM taken before training. A copy of the student at the
    first iteration that is never updated; it lives in the state dict, so ``--resume`` keeps it."""

    def __init__(self) -> None:
        super().__init__(momentum=0.5)  # the average is never updated, the value is unused

    def update(self, sam: nn.Module) -> None:
        """Take the copy at the first iteration; never fold the student in afterwards."""
        self._start(sam)
