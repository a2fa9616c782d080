"""Negative Prompt Calibration (PointSAM): where two instances' masks overlap, each one's positive
points become the other's negative prompts, and SAM is asked again for the overlapping ones."""
from typing import Tuple

import torch

from mmpointsam.registry import MODELS


def pairwise_mask_iou(masks: torch.Tensor, batch_idx: torch.Tensor) -> torch.Tensor:
    """IoU (N, N) between binary masks (N, H, W) of the same image; 0 across images and on the
    diagonal. One matrix product on the flattened masks, no Python loop over pairs."""
    num = masks.shape[0]
    if num == 0:
        return masks.new_zeros((0, 0), dtype=torch.float32)
    flat = masks.reshape(num, -1).float()
    inter = flat @ flat.T
    area = flat.sum(1)
    union = area[:, None] + area[None, :] - inter
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.zeros_like(inter))
    same_image = batch_idx[:, None] == batch_idx[None, :]
    iou = iou * same_image
    iou.fill_diagonal_(0)
    return iou


@MODELS.register_module()
class NegativePromptCalibration:
    """Calibrate point prompts with the other instances' positive points (PointSAM, NPC).

    Args:
        iou_thr: instances whose mask overlaps another instance's mask with IoU above this get
            that instance's positive points as negative prompts (0.1 in the paper).
    """

    def __init__(self, iou_thr: float = 0.1) -> None:
        self.iou_thr = iou_thr

    def calibrated_prompts(self, points: torch.Tensor, labels: torch.Tensor,
                           overlap: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor,
                                                           torch.Tensor]:
        """Prompts of the overlapping instances with their negatives added.

        Args:
            points (N, P, 2), labels (N, P): prompts (label 1 positive, 0 negative, -1 padding).
            overlap (N, N) bool: ``overlap[i, j]`` when j's positives become i's negatives.

        Returns:
            Indices (M,) of the calibrated instances and their new points (M, P', 2) and labels
            (M, P'), padded with label -1.
        """
        rows = overlap.any(dim=1).nonzero(as_tuple=True)[0]
        if rows.numel() == 0:
            return rows, points[:0], labels[:0]
        positive = labels == 1
        new_points, new_labels = [], []
        for i in rows.tolist():
            others = overlap[i].nonzero(as_tuple=True)[0]
            neg_pts = points[others][positive[others]]  # (K, 2) every positive of the others
            new_points.append(torch.cat([points[i], neg_pts]))
            new_labels.append(torch.cat([labels[i], labels.new_zeros(len(neg_pts))]))
        width = max(len(p) for p in new_points)
        out_points = points.new_zeros((len(rows), width, 2))
        out_labels = labels.new_full((len(rows), width), -1)
        for k, (p, lb) in enumerate(zip(new_points, new_labels)):
            out_points[k, :len(p)] = p
            out_labels[k, :len(lb)] = lb
        return rows, out_points, out_labels

    @torch.no_grad()
    def __call__(self, sam, embeddings: torch.Tensor, batch_idx: torch.Tensor,
                 points: torch.Tensor, labels: torch.Tensor, logits: torch.Tensor,
                 iou_pred: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Re-decode overlapping instances with calibrated prompts.

        ``logits`` (N, L, L) are the first predictions of the same prompts on ``embeddings``. The
        IoU matrix is computed on these low-res masks (the paper's full-resolution loop gives the
        same overlaps at a fraction of the cost).

        Returns:
            Calibrated logits (N, L, L), predicted IoU (N,), and a bool (N,) marking the instances
            that were calibrated.
        """
        overlap = pairwise_mask_iou(logits > sam.mask_threshold, batch_idx) > self.iou_thr
        rows, new_points, new_labels = self.calibrated_prompts(points, labels, overlap)
        calibrated = torch.zeros(len(logits), dtype=torch.bool, device=logits.device)
        if rows.numel() == 0:
            return logits, iou_pred, calibrated
        new_logits, new_iou = sam.decode(embeddings, batch_idx[rows], new_points, new_labels)
        logits = logits.index_copy(0, rows, new_logits.to(logits.dtype))
        iou_pred = iou_pred.index_copy(0, rows, new_iou.to(iou_pred.dtype))
        calibrated[rows] = True
        return logits, iou_pred, calibrated
