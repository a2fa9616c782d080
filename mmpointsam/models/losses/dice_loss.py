"""Soft dice loss on mask logits."""

import torch
import torch.nn as nn

from mmpointsam.registry import MODELS

DICE_REDUCTIONS = ('mask', 'pooled')


@MODELS.register_module()
class MaskDiceLoss(nn.Module):
    """``1 - (2 |P.G| + s) / (|P| + |G| + s)`` on sigmoid probabilities, per mask then averaged
    over masks (default), or once over the pixels of all masks together.

    Args:
        smooth: the additive constant ``s``.
        loss_weight: weight of the loss.
        reduction: ``'mask'`` (default): one dice per mask, mean over masks. ``'pooled'``: one
            dice over every mask's pixels at once, as the public PointSAM code computes it on
            an image's instances (utils/losses.py L60-70 flattens them; train_pointsam.py L157);
            it equals the public batch-of-one loss.
        smooth_per_mask: False (default): ``s = smooth``. True: ``s = smooth x`` the number of
            masks, as in the public PointSAM code, which passes the batch's mask count as
            ``smooth`` (train_pointsam.py L157, train_selftrain.py L74, train_supervise.py L65).
    """

    def __init__(
        self,
        smooth: float = 1.0,
        loss_weight: float = 1.0,
        reduction: str = 'mask',
        smooth_per_mask: bool = False,
    ) -> None:
        super().__init__()
        if reduction not in DICE_REDUCTIONS:
            raise ValueError(f'reduction={reduction!r}: choose one of {DICE_REDUCTIONS}')
        self.smooth = smooth
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.smooth_per_mask = smooth_per_mask

    @property
    def averages_over_masks(self) -> bool:
        """Whether the loss is a mean over masks (then chunks of masks combine by n_c / N)."""
        return self.reduction == 'mask' and not self.smooth_per_mask

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """logits, targets: (N, H, W); targets in [0, 1]. Returns a scalar."""
        if logits.numel() == 0:
            return logits.sum()
        smooth = self.smooth * len(logits) if self.smooth_per_mask else self.smooth
        prob = logits.sigmoid().flatten(1)
        targets = targets.to(prob.dtype).flatten(1)
        if self.reduction == 'pooled':
            prob, targets = prob.reshape(1, -1), targets.reshape(1, -1)
        inter = (prob * targets).sum(1)
        dice = (2 * inter + smooth) / (prob.sum(1) + targets.sum(1) + smooth)
        return self.loss_weight * (1 - dice).mean()
