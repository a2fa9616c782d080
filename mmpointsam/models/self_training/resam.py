"""ReSAM's self-prompting: Refine the teacher's masks by confidence, Requery SAM with their boxes,
Reinforce with an alignment of box-pooled embeddings across the two views."""

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import roi_align

from mmpointsam.registry import MODELS


def binary_entropy(prob: torch.Tensor, unit: str = 'bits') -> torch.Tensor:
    """Entropy in bits (0 for certain pixels, 1 at p = 0.5) or, ``unit='nats'``, in nats (ln 2
    at p = 0.5, the public ReSAM code's natural log)."""
    p = prob.clamp(1e-6, 1 - 1e-6)
    log = torch.log2 if unit == 'bits' else torch.log
    return -(p * log(p) + (1 - p) * log(1 - p))


def masks_to_boxes(masks: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pixel-edge boxes (N, 4) xyxy of binary masks (N, H, W), in mask pixels, and which masks
    are non-empty (N,). Empty masks get a zero box."""
    num, h, w = masks.shape
    if num == 0:
        return masks.new_zeros((0, 4), dtype=torch.float32), masks.new_zeros(0, dtype=torch.bool)
    rows = masks.any(dim=2)
    cols = masks.any(dim=1)
    valid = rows.any(dim=1)
    ar_h = torch.arange(h, device=masks.device)
    ar_w = torch.arange(w, device=masks.device)
    y0 = torch.where(rows, ar_h, h).min(dim=1).values
    y1 = torch.where(rows, ar_h, -1).max(dim=1).values + 1
    x0 = torch.where(cols, ar_w, w).min(dim=1).values
    x1 = torch.where(cols, ar_w, -1).max(dim=1).values + 1
    boxes = torch.stack([x0, y0, x1, y1], dim=1).float() * valid[:, None]
    return boxes, valid


@MODELS.register_module()
class ConfidenceRefiner(nn.Module):
    """Refine + Requery: keep confident pixels of the teacher's masks, box them, ask SAM again.

    A pixel is kept where ``p (1 - H(p)) > threshold`` (``p`` the teacher's probability, ``H`` its
    binary entropy), and dropped wherever two instances of one image both keep it. Each
    instance's box of kept pixels (pixel edges), with its points or alone, prompts SAM on the weak
    view; the answer is the pseudo mask. An instance whose refined region is empty keeps its
    unrefined mask (the public code drops it from the box batch, which misaligns the later
    instances' pseudo masks; not reproduced).

    Args:
        threshold: confidence threshold epsilon (0.2 to 0.3 in the paper; public code: 0.3).
        requery: ask SAM again with the boxes; without it the refined region is the pseudo mask.
        entropy_unit: 'bits' (H <= 1; 0.25 keeps p > 0.81) or 'nats' (H <= ln 2, as the public
            code's ``process_forward`` in train_resam.py; 0.3 keeps p > 0.73).
        full_resolution: False thresholds the low-res grid (L x L, 256 for 1024 inputs). True
            first upsamples the logits bilinearly to the whole padded input frame (S x S), as the
            public code does (utils/model.py ``decode`` interpolates every low-res mask to the
            input size before train_resam.py thresholds it); the boxes are then in input pixels
            directly. Either way the requeried logits stay on the low-res grid.
        requery_prompt: 'points+box' asks SAM with the instance's points and its box; 'box'
            with the box alone, as the public code's requery ``model(images_weak, bboxes)``.
        chunk: instances upsampled at a time with ``full_resolution`` (memory: chunk x S x S).
        min_area_ratio: the refine floor (None: off, the paper). The threshold adapts to the
            model's confidence per instance: where fewer than this share of the unrefined mask's
            pixels pass ``threshold``, the instance keeps instead its most confident
            ``min_area_ratio`` of them (a per-instance quantile of ``p (1 - H(p))`` over its
            mask). A weak model rarely reaches p > 0.81, so the fixed threshold keeps a small
            core whose box requeries a smaller mask each iteration (issue 21); with the floor
            the requery box cannot shrink below the floor's region.
        max_growth: the requery ceiling (None: off, the paper). A requeried mask covering more
            than ``max_growth`` times the unrefined mask's cells is not taken: the instance keeps
            its unrefined mask. A box prompt asks SAM for whatever fills the box; where the
            model answers with more than the object, the student learns the bigger mask and the
            next box is bigger still (on the proxy's dense target the masks ended 7-12 times
            their first area).
    """

    ENTROPY_UNITS = ('bits', 'nats')
    REQUERY_PROMPTS = ('points+box', 'box')

    def __init__(
        self,
        threshold: float = 0.25,
        requery: bool = True,
        entropy_unit: str = 'bits',
        full_resolution: bool = False,
        requery_prompt: str = 'points+box',
        chunk: int = 16,
        min_area_ratio: Optional[float] = None,
        max_growth: Optional[float] = None,
    ) -> None:
        super().__init__()
        if min_area_ratio is not None and not 0.0 < min_area_ratio <= 1.0:
            raise ValueError(f'min_area_ratio must be in (0, 1] or None, got {min_area_ratio}')
        if max_growth is not None and max_growth < 1.0:
            raise ValueError(f'max_growth must be >= 1 or None, got {max_growth}')
        self.min_area_ratio = min_area_ratio
        self.max_growth = max_growth
        if entropy_unit not in self.ENTROPY_UNITS:
            raise ValueError(
                f'entropy_unit must be one of {self.ENTROPY_UNITS}, got {entropy_unit!r}'
            )
        if requery_prompt not in self.REQUERY_PROMPTS:
            raise ValueError(
                f'requery_prompt must be one of {self.REQUERY_PROMPTS}, got {requery_prompt!r}'
            )
        self.threshold = threshold
        self.requery = requery
        self.entropy_unit = entropy_unit
        self.full_resolution = full_resolution
        self.requery_prompt = requery_prompt
        self.chunk = chunk

    def confident(self, logits: torch.Tensor) -> torch.Tensor:
        """``p (1 - H(p)) > threshold`` (ReSAM's refine), bool like ``logits``; with
        ``min_area_ratio``, at least that share of each mask (``logits > 0``) is kept, its most
        confident pixels."""
        prob = logits.sigmoid()
        score = prob * (1 - binary_entropy(prob, self.entropy_unit))
        keep = score > self.threshold
        if self.min_area_ratio is None or len(logits) == 0:
            return keep
        mask = logits > 0
        flat = torch.where(mask, score, score.new_full((), -1.0)).flatten(1)
        need = torch.ceil(self.min_area_ratio * mask.flatten(1).sum(1).float()).long()
        # the need-th highest score inside the mask: the instance's own threshold
        kth = flat.sort(dim=1, descending=True).values.gather(1, (need - 1).clamp(min=0)[:, None])
        floor = mask & (score >= kth.view(-1, *([1] * (logits.dim() - 1))))
        short = (keep & mask).flatten(1).sum(1) < need
        return torch.where(short.view(-1, *([1] * (logits.dim() - 1))), keep | floor, keep)

    def refine(
        self, logits: torch.Tensor, batch_idx: torch.Tensor, size: Optional[int] = None
    ) -> torch.Tensor:
        """Confident, unclaimed-by-others region (N, L, L) bool of each instance; with ``size``
        the logits are first upsampled to (size, size) (the padded input frame) and so is the
        region."""
        if size is None or size == logits.shape[-1]:
            keep = self.confident(logits)
        else:
            keep = torch.empty((len(logits), size, size), dtype=torch.bool, device=logits.device)
            for start in range(0, len(logits), self.chunk):
                up = F.interpolate(
                    logits[None, start : start + self.chunk].float(),
                    size=(size, size),
                    mode='bilinear',
                    align_corners=False,
                )[0]
                keep[start : start + self.chunk] = self.confident(up)
        if len(keep) > 1:
            # pixels kept by two instances of the same image belong to neither
            claims = torch.zeros(
                (int(batch_idx.max()) + 1,) + keep.shape[1:], dtype=torch.int32, device=keep.device
            )
            claims.index_add_(0, batch_idx, keep.int())
            keep = keep & (claims[batch_idx] <= 1)
        return keep

    @torch.no_grad()
    def forward(
        self,
        sam,
        embeddings: torch.Tensor,
        batch_idx: torch.Tensor,
        points: torch.Tensor,
        labels: torch.Tensor,
        logits: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pseudo-mask logits (N, L, L), their boxes in the input frame (N, 4) and whether each
        instance was refined (N,) bool."""
        low = logits.shape[-1]
        scale = sam.img_size / low
        region = self.refine(logits, batch_idx, sam.img_size if self.full_resolution else None)
        boxes, refined = masks_to_boxes(region)
        if region.shape[-1] == low:
            boxes = boxes * scale
        out = logits.clone()
        if self.requery and refined.any():
            sel = refined.nonzero(as_tuple=True)[0]
            if self.requery_prompt == 'box':
                new_logits, _ = sam.decode(embeddings, batch_idx[sel], boxes=boxes[sel])
            else:
                new_logits, _ = sam.decode(
                    embeddings, batch_idx[sel], points[sel], labels[sel], boxes=boxes[sel]
                )
            new_logits = new_logits.to(out.dtype)
            if self.max_growth is not None:
                before = (logits[sel] > 0).flatten(1).sum(1)
                after = (new_logits > 0).flatten(1).sum(1)
                inflated = after > self.max_growth * before
                new_logits[inflated] = logits[sel][inflated]
            out[sel] = new_logits
        elif refined.any():
            if region.shape[-1] != low:
                # a low-res cell is in the region when most of its input pixels are
                region = F.avg_pool2d(region[None].float(), int(scale))[0] > 0.5
            out = torch.where(region, out.abs(), -out.abs())
            out[~refined] = logits[~refined]
        # instances without a refined region are aligned with their unrefined prediction
        fallback, _ = masks_to_boxes(logits[~refined] > 0)
        boxes[~refined] = fallback * scale
        return out, boxes, refined


@MODELS.register_module()
class EmbeddingAlignmentLoss(nn.Module):
    """Reinforce: InfoNCE between box-pooled student (strong view) and teacher (weak view)
    embeddings of each instance, against the batch's other instances and a queue of past ones.

    Args:
        queue_size: negatives kept from past iterations (32 to 128 in the paper).
        temperature: 0.05 in the paper.
        loss_weight: the final weight beta.
        warmup_iters: beta ramps linearly from 0 to ``loss_weight`` over these iterations, so the
            alignment starts once the pseudo masks have settled (0: constant).
        dim: embedding channels (256 for SAM).
    """

    def __init__(
        self,
        queue_size: int = 64,
        temperature: float = 0.05,
        loss_weight: float = 0.1,
        warmup_iters: int = 250,
        dim: int = 256,
    ) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.warmup_iters = warmup_iters
        self.register_buffer('queue', torch.zeros(queue_size, dim))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('count', torch.zeros((), dtype=torch.long))
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))

    def beta(self) -> float:
        if self.warmup_iters <= 0:
            return self.loss_weight
        return self.loss_weight * min(1.0, float(self.steps) / self.warmup_iters)

    @staticmethod
    def pool(
        embeddings: torch.Tensor, boxes: torch.Tensor, batch_idx: torch.Tensor, input_size: int
    ) -> torch.Tensor:
        """Mean embedding (N, C) inside each box (input-frame xyxy) via RoIAlign."""
        rois = torch.cat([batch_idx[:, None].to(boxes.dtype), boxes], dim=1)
        scale = embeddings.shape[-1] / input_size
        pooled = roi_align(
            embeddings,
            rois.to(embeddings.dtype),
            output_size=4,
            spatial_scale=scale,
            sampling_ratio=2,
            aligned=True,
        )
        return pooled.mean(dim=(2, 3))

    def forward(
        self,
        student_emb: torch.Tensor,
        teacher_emb: torch.Tensor,
        boxes: torch.Tensor,
        batch_idx: torch.Tensor,
        input_size: int,
        valid: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        self.steps.add_(1)
        if valid is not None:
            boxes, batch_idx = boxes[valid], batch_idx[valid]
        if len(boxes) == 0:
            return student_emb.sum() * 0.0
        z_s = F.normalize(self.pool(student_emb, boxes, batch_idx, input_size), dim=1)
        with torch.no_grad():
            z_t = F.normalize(self.pool(teacher_emb, boxes, batch_idx, input_size), dim=1)
        # a copy: the queue is updated in place below, after the graph used it
        queue = self.queue[: min(int(self.count), len(self.queue))].to(z_s.dtype, copy=True)
        # instance i's positive is its own teacher embedding; the other instances of the batch
        # and the queue are negatives
        logits = torch.cat([z_s @ z_t.T, z_s @ queue.T], dim=1) / self.temperature
        target = torch.arange(len(z_s), device=z_s.device)
        loss = F.cross_entropy(logits, target)
        self._enqueue(z_t)
        return self.beta() * loss

    @torch.no_grad()
    def _enqueue(self, z: torch.Tensor) -> None:
        z = z[-len(self.queue) :]
        idx = (int(self.ptr) + torch.arange(len(z), device=z.device)) % len(self.queue)
        self.queue[idx] = z.to(self.queue.dtype)
        self.ptr.fill_((int(self.ptr) + len(z)) % len(self.queue))
        self.count.add_(len(z))
