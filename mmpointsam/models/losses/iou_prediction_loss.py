"""Loss of SAM's IoU head: MSE between predicted IoU and the IoU the mask really has."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmpointsam.registry import MODELS


def binary_mask_iou(logits: torch.Tensor, targets: torch.Tensor,
                    threshold: float = 0.0) -> torch.Tensor:
    """IoU (N,) between ``logits > threshold`` and ``targets > 0.5``, both (N, H, W)."""
    pred = (logits > threshold).flatten(1)
    gt = (targets > 0.5).flatten(1)
    inter = (pred & gt).sum(1).float()
    union = (pred | gt).sum(1).float()
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

    def __init__(self, loss_weight: float = 1.0, pred_threshold: Optional[float] = None,
                 union_eps: Optional[float] = None) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.pred_threshold = pred_threshold
        self.union_eps = union_eps

    averages_over_masks = True

    def target_iou(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The IoU (N,) the head learns to predict."""
        if self.pred_threshold is None and self.union_eps is None:
            return binary_mask_iou(logits, targets)
        pred = (logits > 0 if self.pred_threshold is None else
                logits >= self.pred_threshold).flatten(1)
        gt = (targets > 0.5).flatten(1)
        inter = (pred & gt).sum(1).float()
        union = (pred | gt).sum(1).float()
        if self.union_eps is None:
            return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
        return inter / (union + self.union_eps)

    def forward(self, iou_pred: torch.Tensor, logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        if iou_pred.numel() == 0:
            return iou_pred.sum()
        with torch.no_grad():
            iou = self.target_iou(logits, targets)
        return self.loss_weight * F.mse_loss(iou_pred, iou.to(iou_pred.dtype))
