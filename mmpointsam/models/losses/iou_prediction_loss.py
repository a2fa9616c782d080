"""Loss of SAM's IoU head: MSE between predicted IoU and the IoU the mask really has."""
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
    """MSE between predicted IoU (N,) and the detached IoU of the predicted mask with its target."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, iou_pred: torch.Tensor, logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        if iou_pred.numel() == 0:
            return iou_pred.sum()
        with torch.no_grad():
            iou = binary_mask_iou(logits, targets)
        return self.loss_weight * F.mse_loss(iou_pred, iou.to(iou_pred.dtype))
