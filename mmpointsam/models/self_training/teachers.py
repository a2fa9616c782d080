"""Teachers of self-training: which weights make the pseudo masks on the weak view."""

import contextlib
from typing import Iterator

import torch
import torch.nn as nn
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
    and ``--resume`` keep it.

    Args:
        momentum: MMEngine's EMA momentum: ``avg = (1 - momentum) * avg + momentum * weights``.
    """

    def __init__(self, momentum: float = 0.001) -> None:
        super().__init__()
        self.momentum = momentum
        self.ema = None
        self.register_buffer('started', torch.zeros((), dtype=torch.bool))

    def setup(self, sam: nn.Module) -> None:
        """Create the average (a frozen copy of ``sam``); called once by the segmentor."""
        self.ema = ExponentialMovingAverage(sam, momentum=self.momentum, update_buffers=True)
        self.ema.requires_grad_(False)

    def _start(self, sam: nn.Module) -> None:
        if not bool(self.started):
            self.ema.module.load_state_dict(sam.state_dict())
            self.started.fill_(True)

    def update(self, sam: nn.Module) -> None:
        """Fold the student's latest weights into the average (once per iteration)."""
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
