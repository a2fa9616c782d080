"""Sigmoid focal loss on mask logits (Lin et al. 2017), as SAM is trained with."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmpointsam.registry import MODELS


@MODELS.register_module()
class MaskFocalLoss(nn.Module):
    """Focal loss averaged over the pixels of each mask, then over masks.

    Args:
        alpha: weight of positive pixels (negatives get ``1 - alpha``); the papers use 0.8.
        gamma: focusing exponent.
        loss_weight: the papers weigh focal 20x against dice.
    """

    def __init__(self, alpha: float = 0.8, gamma: float = 2.0, loss_weight: float = 20.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """logits, targets: (N, H, W); targets in [0, 1]. Returns a scalar."""
        if logits.numel() == 0:
            return logits.sum()
        targets = targets.to(logits.dtype)
        prob = logits.sigmoid()
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
        p_t = prob * targets + (1 - prob) * (1 - targets)
        alpha_t = self.alpha * targets + (1 - self.alpha) * (1 - targets)
        loss = alpha_t * (1 - p_t).pow(self.gamma) * ce
        return self.loss_weight * loss.flatten(1).mean(1).mean()
