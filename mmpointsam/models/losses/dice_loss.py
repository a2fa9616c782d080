"""Soft dice loss on mask logits."""
import torch
import torch.nn as nn

from mmpointsam.registry import MODELS


@MODELS.register_module()
class MaskDiceLoss(nn.Module):
    """``1 - (2 |P.G| + s) / (|P| + |G| + s)`` per mask on sigmoid probabilities, mean over masks.

    Args:
        smooth: the additive constant ``s`` (a constant: never the instance count).
        loss_weight: weight of the loss.
    """

    def __init__(self, smooth: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.smooth = smooth
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """logits, targets: (N, H, W); targets in [0, 1]. Returns a scalar."""
        if logits.numel() == 0:
            return logits.sum()
        prob = logits.sigmoid().flatten(1)
        targets = targets.to(prob.dtype).flatten(1)
        inter = (prob * targets).sum(1)
        dice = (2 * inter + self.smooth) / (prob.sum(1) + targets.sum(1) + self.smooth)
        return self.loss_weight * (1 - dice).mean()
