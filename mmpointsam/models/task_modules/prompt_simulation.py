"""SAM's interactive training recipe for supervised training: the prompt distribution SAM itself
was trained on (Kirillov et al., 2023, appendix "Training algorithm"), on a CPU budget.

Round 1 prompts each instance with its given points or, with ``box_prob``, with its noisy
ground-truth box alone; every later round adds one corrective point drawn uniformly from the error
region of the previous prediction (positive on a missed pixel, negative on a false one) and feeds
that prediction's logits back as the mask prompt. Without it, supervised training from points
never trains SAM's box and mask-prompt paths, so anything that requeries with a box (ReSAM) would
ask an untrained path.
"""

from typing import Dict, List, Tuple

import torch

from mmpointsam.registry import MODELS

from ..losses import binary_mask_iou
from ..self_training.resam import masks_to_boxes


@MODELS.register_module()
class InteractivePromptSimulation:
    """Point-or-box first prompts, then corrective points with the previous mask as input.

    Configured as ``model.supervision``; every round's decoder graph is kept until the backward
    (``train_cfg.loss_chunk_size`` does not apply), so memory grows with rounds x objects.

    Args:
        rounds: decoder rounds per iteration (SAM: 11 = 1 + 8 corrective points + 2 mask-only;
            each round costs one decoder pass with autograd).
        box_prob: probability that an instance's first prompt is its box instead of its points
            (SAM: 0.5).
        box_noise: std of the box-corner noise as a share of the box side (SAM: 0.1) ...
        max_box_noise: ... clipped to this many pixels of a 1024 input (SAM: 20), scaled to the
            model's input size.
        mask_only_round: the 1-based round (> 1) that adds no point, only the previous mask (SAM
            has two); 0: none.
    """

    def __init__(
        self,
        rounds: int = 3,
        box_prob: float = 0.5,
        box_noise: float = 0.1,
        max_box_noise: float = 20.0,
        mask_only_round: int = 0,
    ) -> None:
        if rounds < 1:
            raise ValueError(f'rounds must be >= 1, got {rounds}')
        if not 0.0 <= box_prob <= 1.0:
            raise ValueError(f'box_prob must be in [0, 1], got {box_prob}')
        if mask_only_round == 1 or mask_only_round < 0 or mask_only_round > rounds:
            raise ValueError(
                f'mask_only_round must be 0 or in [2, rounds={rounds}], got {mask_only_round}'
            )
        self.rounds = rounds
        self.box_prob = box_prob
        self.box_noise = box_noise
        self.max_box_noise = max_box_noise
        self.mask_only_round = mask_only_round

    # ------------------------------------------------------------------ prompt sampling
    def noisy_boxes(self, targets: torch.Tensor, input_size: int) -> torch.Tensor:
        """Ground-truth boxes (N, 4) xyxy in the input frame with SAM's corner noise."""
        low = targets.shape[-1]
        boxes, _ = masks_to_boxes(targets > 0.5)
        boxes = boxes * (input_size / low)
        side = torch.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1).repeat(1, 2)
        cap = self.max_box_noise * input_size / 1024
        noise = (torch.randn_like(boxes) * self.box_noise * side).clamp(-cap, cap)
        boxes = (boxes + noise).clamp(0, input_size)
        # keep x0 <= x1, y0 <= y1 after the noise
        return torch.cat(
            [torch.minimum(boxes[:, :2], boxes[:, 2:]), torch.maximum(boxes[:, :2], boxes[:, 2:])],
            1,
        )

    @staticmethod
    def corrective_points(
        logits: torch.Tensor, targets: torch.Tensor, threshold: float, input_size: int
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """One point (N, 1, 2) per instance, uniform over its error region, in the input frame,
        and its label (N, 1): 1 on a missed pixel, 0 on a false one, -1 (padding) when the
        prediction has no error."""
        low = logits.shape[-1]
        gt = targets > 0.5
        pred = logits > threshold
        error = (gt ^ pred).flatten(1)
        has_error = error.any(dim=1)
        # uniform choice among the error pixels: the argmax of random keys restricted to them
        keys = torch.rand(error.shape, device=logits.device).masked_fill(~error, -1.0)
        idx = keys.argmax(dim=1)
        ys, xs = idx // low, idx % low
        scale = input_size / low
        points = torch.stack([(xs.float() + 0.5) * scale, (ys.float() + 0.5) * scale], 1)
        labels = gt.flatten(1).gather(1, idx[:, None])[:, 0].long()
        labels = torch.where(has_error, labels, labels.new_full((), -1))
        points = points * has_error[:, None]
        return points[:, None].to(logits.dtype), labels[:, None]

    # ------------------------------------------------------------------ training
    def loss(
        self, model, embeddings: torch.Tensor, prompts, targets: torch.Tensor
    ) -> Dict[str, torch.Tensor]:
        """Mask losses averaged over the rounds (each a mean over instances), and the last
        round's IoU with the targets as ``train_iou``."""
        sam = model.sam
        num = len(targets)
        if num == 0:
            logits, iou = sam.decode(embeddings, prompts.batch_idx, prompts.points, prompts.labels)
            losses = model.mask_losses(logits, iou, targets)
            losses['train_iou'] = logits.new_zeros(())
            return losses
        # an object covering no low-res cell has no box to give: it starts from its points
        has_box = (targets > 0.5).flatten(1).any(1)
        use_box = (torch.rand(num, device=targets.device) < self.box_prob) & has_box
        boxes = self.noisy_boxes(targets, sam.img_size)
        # the box group starts with no points: one padding point (label -1) as a placeholder
        points = torch.where(use_box[:, None, None], prompts.points.new_zeros(()), prompts.points)
        labels = torch.where(use_box[:, None], prompts.labels.new_full((), -1), prompts.labels)
        mask_input = None
        totals: Dict[str, torch.Tensor] = {}
        logits = None
        for r in range(1, self.rounds + 1):
            if r > 1 and r != self.mask_only_round:
                new_pts, new_lbl = self.corrective_points(
                    logits, targets, sam.mask_threshold, sam.img_size
                )
                points = torch.cat([points, new_pts], 1)
                labels = torch.cat([labels, new_lbl], 1)
            logits, iou = self._decode_groups(
                sam, embeddings, prompts.batch_idx, points, labels, boxes, use_box, mask_input
            )
            for k, v in model.mask_losses(logits, iou, targets).items():
                totals[k] = totals[k] + v / self.rounds if k in totals else v / self.rounds
            logits = logits.detach()
            mask_input = logits[:, None]
        with torch.no_grad():
            totals['train_iou'] = binary_mask_iou(logits, targets).mean()
        return totals

    @staticmethod
    def _decode_groups(
        sam, embeddings, batch_idx, points, labels, boxes, use_box, mask_input
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Decode the box-prompted and the point-prompted instances (SAM's prompt encoder takes
        boxes for all prompts of a call or none) and put them back in order."""
        num, low = len(batch_idx), sam.low_res_size
        logits = embeddings.new_empty((num, low, low))
        iou = embeddings.new_empty((num,))
        parts: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for with_box in (True, False):
            sel = (use_box == with_box).nonzero(as_tuple=True)[0]
            if sel.numel() == 0:
                continue
            out_logits, out_iou = sam.decode(
                embeddings,
                batch_idx[sel],
                points[sel],
                labels[sel],
                boxes=boxes[sel] if with_box else None,
                mask_inputs=mask_input[sel] if mask_input is not None else None,
            )
            parts.append((sel, out_logits, out_iou))
        for sel, out_logits, out_iou in parts:
            logits = logits.index_copy(0, sel, out_logits.to(logits.dtype))
            iou = iou.index_copy(0, sel, out_iou.to(iou.dtype))
        return logits, iou
