"""Guards of self-training against collapse (issue 21): a quality gate that keeps bad pseudo
masks from training the student, and the pseudo-mask statistics a run logs so that a drift
toward collapse is seen (``PseudoLabelMonitorHook`` warns on them)."""

from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmpointsam.registry import MODELS


def stability_score(logits: torch.Tensor, offset: float = 1.0) -> torch.Tensor:
    """SAM's stability score (N,): IoU of the masks ``logits > offset`` and ``logits > -offset``;
    1 for a mask whose edge is sharp, low where a small change of the logits moves it. An empty
    mask scores 0."""
    high = (logits > offset).flatten(1).sum(1).float()
    low = (logits > -offset).flatten(1).sum(1).float()
    return torch.where(low > 0, high / low.clamp(min=1), torch.zeros_like(low))


def clicks_inside(
    masks: torch.Tensor, points: torch.Tensor, labels: torch.Tensor, cell: float
) -> torch.Tensor:
    """Share (N,) of each instance's positive clicks (input frame) that fall in its mask (N, L, L)
    bool, dilated by one cell (a click on an edge cell counts); 1 for an instance without
    positives."""
    num, size = masks.shape[0], masks.shape[-1]
    if num == 0:
        return masks.new_zeros(0, dtype=torch.float32)
    grown = F.max_pool2d(masks[:, None].float(), 3, stride=1, padding=1)[:, 0] > 0
    cells = (points / cell).floor().long().clamp(0, size - 1)  # (N, P, 2) xy
    rows = torch.arange(num, device=masks.device)[:, None].expand_as(labels)
    hit = grown[rows, cells[..., 1], cells[..., 0]]
    positive = labels == 1
    count = positive.sum(1)
    inside = (hit & positive).sum(1).float()
    return torch.where(count > 0, inside / count.clamp(min=1), torch.ones_like(inside))


@MODELS.register_module()
class PseudoLabelGate(nn.Module):
    """Which instances' pseudo masks may train the student this iteration.

    An instance is dropped (for this iteration only) when its pseudo mask is
    * empty: fewer than ``min_area`` cells of the decoder's low-res grid;
    * degenerate: more than ``max_area_ratio`` of the grid, or fewer than ``min_clicks_inside``
      of its own positive clicks inside it (a mask that left its click is another object);
    * unstable: SAM's stability score below ``min_stability`` (None: not checked), or IoU below
      ``min_view_iou`` between the teacher's answers on the weak and the strong view (None: not
      checked; it costs one more teacher encoder pass).
    A student that learns empty or wandering masks for real clicks unlearns the objects; dropping
    them costs only their share of the batch, which is logged (``gate_dropped``).

    Args:
        min_area: cells a pseudo mask must cover.
        max_area_ratio: largest share of the grid a pseudo mask may cover.
        min_clicks_inside: share of positive clicks that must lie in the mask (0: not checked).
        min_stability: lowest stability score (logit offset ``stability_offset``).
        stability_offset: the logit offset of the stability score (SAM's 1.0).
        min_view_iou: lowest weak/strong-view IoU of the teacher's plain answers.
    """

    def __init__(
        self,
        min_area: int = 1,
        max_area_ratio: float = 0.5,
        min_clicks_inside: float = 0.5,
        min_stability: Optional[float] = None,
        stability_offset: float = 1.0,
        min_view_iou: Optional[float] = None,
    ) -> None:
        super().__init__()
        if not 0.0 < max_area_ratio <= 1.0:
            raise ValueError(f'max_area_ratio must be in (0, 1], got {max_area_ratio}')
        self.min_area = min_area
        self.max_area_ratio = max_area_ratio
        self.min_clicks_inside = min_clicks_inside
        self.min_stability = min_stability
        self.stability_offset = stability_offset
        self.min_view_iou = min_view_iou

    @property
    def needs_view(self) -> bool:
        """Whether the gate needs the teacher's answer on the strong view."""
        return self.min_view_iou is not None

    @torch.no_grad()
    def forward(
        self,
        logits: torch.Tensor,
        points: torch.Tensor,
        labels: torch.Tensor,
        cell: float,
        view_iou: Optional[torch.Tensor] = None,
    ) -> Dict[str, torch.Tensor]:
        """Pseudo-mask logits (N, L, L), the prompts (input frame), the cell size in input
        pixels and the weak/strong agreement (N,) -> bool (N,) masks: ``keep`` and, per reason,
        ``empty``, ``degenerate``, ``unstable``."""
        masks = logits > 0
        area = masks.flatten(1).sum(1)
        empty = area < self.min_area
        degenerate = area > self.max_area_ratio * masks[0].numel() if len(masks) else empty
        if self.min_clicks_inside > 0:
            degenerate = degenerate | (
                clicks_inside(masks, points, labels, cell) < self.min_clicks_inside
            )
        unstable = torch.zeros_like(empty)
        if self.min_stability is not None:
            unstable = unstable | (
                stability_score(logits, self.stability_offset) < self.min_stability
            )
        if self.min_view_iou is not None:
            if view_iou is None:
                raise ValueError('min_view_iou needs the strong-view agreement (view_iou)')
            unstable = unstable | (view_iou < self.min_view_iou)
        degenerate = degenerate & ~empty
        unstable = unstable & ~empty & ~degenerate
        return dict(
            keep=~(empty | degenerate | unstable),
            empty=empty,
            degenerate=degenerate,
            unstable=unstable,
        )


class PseudoMaskStatistics(nn.Module):
    """Running pseudo-mask statistics of a self-training run, for the log.

    The reference area is the mean pseudo-mask area (cells) over the first ``ref_iters``
    iterations; ``pseudo_area_ratio`` is this iteration's mean area over it: a run whose masks
    shrink toward nothing shows it falling long before the metric does. Buffers are saved in
    checkpoints, so a resumed run keeps its reference.
    """

    def __init__(self, ref_iters: int = 10) -> None:
        super().__init__()
        self.ref_iters = ref_iters
        self.register_buffer('ref_area_sum', torch.zeros(()))
        self.register_buffer('ref_count', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def forward(self, masks: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Pseudo masks (N, L, L) bool -> ``pseudo_empty_share`` and ``pseudo_area_ratio``."""
        if len(masks) == 0:
            return {}
        area = masks.flatten(1).sum(1).float()
        mean_area = area.mean()
        if int(self.ref_count) < self.ref_iters:
            self.ref_area_sum.add_(mean_area)
            self.ref_count.add_(1)
        ref = float(self.ref_area_sum) / max(int(self.ref_count), 1)
        return dict(
            pseudo_empty_share=(area == 0).float().mean(),
            pseudo_area_ratio=mean_area / ref if ref > 0 else mean_area.new_ones(()),
        )
