"""Loss of SAM's IoU head: MSE between predicted IoU and the IoU the mask really has."""

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmpointsam.registry import MODELS


def binary_mask_iou(
    logits: torch.Tensor,
    targets: torch.Tensor,
    threshold: float = 0.0,
    inclusive: bool = False,
    union_eps: Optional[float] = None,
) -> torch.Tensor:
    """IoU (N,) between ``logits > threshold`` (``>=`` with ``inclusive``) and ``targets > 0.5``,
    both (N, H, W). Two empty masks have IoU 1, or with ``union_eps`` the IoU is
    ``I / (U + union_eps)`` and they have 0."""
    pred = (logits >= threshold if inclusive else logits > threshold).flatten(1)
    gt = (targets > 0.5).flatten(1)
    inter = (pred & gt).sum(1).float()
    union = (pred | gt).sum(1).float()
    if union_eps is not None:
        return inter / (union + union_eps)
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


@MODELS.register_module()
class IoUPredictionLoss(nn.Module):
    """MSE between predicted IoU (N,) and the detached IoU of the predicted mask with its target
    (``targets > 0.5``), mean over masks.

    Args:
        loss_weight: weight of the loss.
        pred_threshold: None (default): the predicted mask is ``logits > 0`` (SAM's threshold).
            A float t: ``logits >= t``, the public code's target (calc_iou in utils/eval_utils.py
            L39-47 of PointSAM and ReSAM thresholds the LOGITS at >= 0.5, a probability of 0.62).
        union_eps: None (default): I / U, and two empty masks have IoU 1. A float e:
            I / (U + e), so two empty masks have IoU 0 (the public code: e = 1e-7).
    """

    averages_over_masks = True  # a mean over masks either way: chunks combine by n_c / N

    def __init__(
        self,
        loss_weight: float = 1.0,
        pred_threshold: Optional[float] = None,
        union_eps: Optional[float] = None,
    ) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.pred_threshold = pred_threshold
        self.union_eps = union_eps

    def target_iou(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The IoU (N,) the head learns to predict."""
        if self.pred_threshold is None:
            return binary_mask_iou(logits, targets, union_eps=self.union_eps)
        return binary_mask_iou(
            logits, targets, self.pred_threshold, inclusive=True, union_eps=self.union_eps
        )

    def forward(
        self, iou_pred: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """MSE between the predicted IoU and the IoU of the predicted mask with its target."""
        if iou_pred.numel() == 0:
            return iou_pred.sum()
        with torch.no_grad():
            iou = self.target_iou(logits, targets)
        return self.loss_weight * F.mse_loss(iou_pred, iou.to(iou_pred.dtype))
