"""Sigmoid focal loss on mask logits (Lin et al. 2017), as SAM is trained with, and the public
PointSAM / ReSAM code's variant of it."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmpointsam.registry import MODELS

FOCAL_FORMULAS = ('balanced', 'uniform_alpha')
MASK_REDUCTIONS = ('mean', 'sum')


def _check_choice(name: str, value, choices) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name}={value!r}: choose one of {choices}')


@MODELS.register_module()
class MaskFocalLoss(nn.Module):
    """Focal loss averaged over the pixels of each mask, then averaged (or summed) over masks.

    Args:
        alpha: with ``formula='balanced'`` the weight of positive pixels (negatives get
            ``1 - alpha``); with ``'uniform_alpha'`` a factor on every pixel.
        gamma: focusing exponent.
        loss_weight: the papers weigh focal 20x against dice.
        formula: ``'balanced'`` (default, Lin et al.): ``alpha_t (1 - p_t)^gamma BCE`` with BCE
            from the logits. ``'uniform_alpha'``: the public code's FocalLoss (PointSAM and ReSAM
            utils/losses.py, PointSAM L29-41, ReSAM L17-29, from WeSAM): per pixel
            ``alpha (1 - exp(-BCE))^gamma BCE``, BCE of the sigmoid probabilities as
            ``F.binary_cross_entropy`` computes it (log clamped at -100, so a saturated wrong
            pixel costs 100).
        mask_reduction: ``'mean'`` (default) or ``'sum'`` of the per-mask pixel means. The
            public PointSAM code passes the batch's mask count N as ``alpha`` (train_pointsam.py
            L156, train_selftrain.py L73, train_supervise.py L64) on the pixel mean over the
            image's N masks: with its batch size 1 that is the sum over masks with alpha 1.
    """

    def __init__(
        self,
        alpha: float = 0.8,
        gamma: float = 2.0,
        loss_weight: float = 20.0,
        formula: str = 'balanced',
        mask_reduction: str = 'mean',
    ) -> None:
        super().__init__()
        _check_choice('formula', formula, FOCAL_FORMULAS)
        _check_choice('mask_reduction', mask_reduction, MASK_REDUCTIONS)
        self.alpha = alpha
        self.gamma = gamma
        self.loss_weight = loss_weight
        self.formula = formula
        self.mask_reduction = mask_reduction

    @property
    def averages_over_masks(self) -> bool:
        """Whether the loss is a mean over masks (then chunks of masks combine by n_c / N)."""
        return self.mask_reduction == 'mean'

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """logits, targets: (N, H, W); targets in [0, 1]. Returns a scalar."""
        if logits.numel() == 0:
            return logits.sum()
        targets = targets.to(logits.dtype)
        prob = logits.sigmoid()
        if self.formula == 'balanced':
            ce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
            p_t = prob * targets + (1 - prob) * (1 - targets)
            alpha_t = self.alpha * targets + (1 - self.alpha) * (1 - targets)
            loss = alpha_t * (1 - p_t).pow(self.gamma) * ce
        else:
            # public code: utils/losses.py L30-38 (BCE of the probabilities, exp(-BCE) as p_t)
            bce = F.binary_cross_entropy(prob, targets, reduction='none')
            loss = self.alpha * (1 - torch.exp(-bce)).pow(self.gamma) * bce
        per_mask = loss.flatten(1).mean(1)
        reduced = per_mask.mean() if self.mask_reduction == 'mean' else per_mask.sum()
        return self.loss_weight * reduced
