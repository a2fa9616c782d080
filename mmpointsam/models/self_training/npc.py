"""Negative Prompt Calibration (PointSAM): where two instances' masks overlap, each one's positive
points become the other's negative prompts, and SAM is asked again for the overlapping ones."""

from typing import Optional, Tuple

import torch

from mmpointsam.models.utils.chunked_decode import ProgressFn, decode_per_image
from mmpointsam.registry import MODELS


def pairwise_mask_iou(masks: torch.Tensor, batch_idx: torch.Tensor) -> torch.Tensor:
    """IoU (N, N) between binary masks (N, H, W) of the same image; 0 across images and on the
    diagonal. One matrix product on the flattened masks, no Python loop over pairs."""
    num = masks.shape[0]
    if num == 0:
        return masks.new_zeros((0, 0), dtype=torch.float32)
    flat = masks.reshape(num, -1).float()
    with torch.autocast(masks.device.type, enabled=False):  # exact pixel counts in bf16 training
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
        max_negatives: at most this many negative points per calibrated instance, taken from
            the most-overlapping instances first. None: all of them, as in the paper -- in a
            dense scene where everything overlaps, N instances x N negatives makes the re-decode
            quadratic in N; a cap keeps it linear. With 'random' it caps N.
        negative_sampling: 'all' keeps the instance's prompts and appends every overlapping
            instance's positives. 'random' is the public code's (utils/utils.py
            ``neg_prompt_calibration``): the candidates are the instance's own negatives plus the
            overlapping instances' positives, and N of them drawn at random without replacement
            replace its negatives, N being the instance's own number of positive points (the
            public ``cfg.num_points``, which is also its number of sampled negatives; all the
            candidates when there are fewer). Drawn with ``torch.randperm`` on the global CPU
            generator, so MMEngine's ``randomness.seed`` makes it repeatable.
        min_kept: the guard "a calibrated prompt may refine a mask, never erase it" (None: off,
            the paper). An instance keeps its uncalibrated answer when the calibrated mask is
            empty or keeps less than this share of the uncalibrated one's cells: a weak decoder
            given a neighbour's click beside its own answers with nothing, and the student would
            learn that nothing for the plain click (issue 21, docs/en/benchmarks.md).
        min_negative_distance: the guard "negatives only from neighbours whose overlap is real at
            the decoder's resolution" (0: off, the paper). A neighbour's positives become an
            instance's negatives only when each of them lies at least this many low-res decoder
            cells from every positive of the instance: closer, the negative and the positive
            fall into the same or adjacent cells of the mask grid and cancel each other.
    """

    NEGATIVE_SAMPLING = ('all', 'random')

    def __init__(
        self,
        iou_thr: float = 0.1,
        max_negatives: Optional[int] = None,
        negative_sampling: str = 'all',
        min_kept: Optional[float] = None,
        min_negative_distance: float = 0.0,
    ) -> None:
        if max_negatives is not None and max_negatives < 1:
            raise ValueError(f'max_negatives must be >= 1 or None, got {max_negatives}')
        if negative_sampling not in self.NEGATIVE_SAMPLING:
            raise ValueError(
                f'negative_sampling must be one of {self.NEGATIVE_SAMPLING}, '
                f'got {negative_sampling!r}'
            )
        self.iou_thr = iou_thr
        self.max_negatives = max_negatives
        self.negative_sampling = negative_sampling
        if min_kept is not None and not 0.0 <= min_kept <= 1.0:
            raise ValueError(f'min_kept must be in [0, 1] or None, got {min_kept}')
        if min_negative_distance < 0:
            raise ValueError(f'min_negative_distance must be >= 0, got {min_negative_distance}')
        self.min_kept = min_kept
        self.min_negative_distance = min_negative_distance

    def calibrated_prompts(
        self,
        points: torch.Tensor,
        labels: torch.Tensor,
        overlap: torch.Tensor,
        iou: Optional[torch.Tensor] = None,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Prompts of the overlapping instances with their negatives added.

        Args:
            points (N, P, 2), labels (N, P): prompts (label 1 positive, 0 negative, -1 padding).
            overlap (N, N) bool: ``overlap[i, j]`` when j's positives become i's negatives.
            iou (N, N): how much they overlap; ranks the instances under ``max_negatives``
                (None: by ``overlap`` alone, ties by index).

        Returns:
            Indices (M,) of the calibrated instances and their new points (M, P', 2) and labels
            (M, P'), padded with label -1. 'all': the negatives follow the others' index order;
            'random': each row is its positives, then its N drawn negatives.
        """
        rows = overlap.any(dim=1).nonzero(as_tuple=True)[0]
        if rows.numel() == 0:
            return rows, points[:0], labels[:0]
        if self.negative_sampling == 'random':
            return self._random_negatives(rows, points, labels, overlap)
        positive = labels == 1
        num_pos = positive.sum(dim=1)
        chosen = overlap[rows]  # (M, N)
        cap = self.max_negatives
        if cap is not None:
            # rank the others by IoU (ties: index) and keep them while they add points under cap
            score = (iou[rows] if iou is not None else chosen.float()).float()
            score = torch.where(chosen, score, score.new_full((), -1.0))
            order = torch.sort(score, dim=1, descending=True, stable=True).indices
            ranked = chosen.gather(1, order)
            pts = num_pos[order] * ranked
            keep = ranked & ((pts.cumsum(dim=1) - pts) < cap)
            chosen = torch.zeros_like(chosen).scatter(1, order, keep)
        num, width = points.shape[:2]
        # every positive of every chosen other, in (other, point) order; then the first ones
        valid = (chosen[:, :, None] & positive[None]).reshape(len(rows), num * width)
        counts = valid.sum(dim=1)
        if cap is not None:
            counts = counts.clamp(max=cap)
        extra = int(counts.max())
        first = torch.sort((~valid).to(torch.uint8), dim=1, stable=True).indices[:, :extra]
        neg_points = points.reshape(num * width, 2)[first]  # (M, extra, 2)
        used = torch.arange(extra, device=points.device)[None] < counts[:, None]
        neg_points = torch.where(used[..., None], neg_points, neg_points.new_zeros(()))
        neg_labels = torch.where(used, labels.new_zeros(()), labels.new_full((), -1))
        return (
            rows,
            torch.cat([points[rows], neg_points], dim=1),
            torch.cat([labels[rows], neg_labels], dim=1),
        )

    def _random_negatives(
        self, rows: torch.Tensor, points: torch.Tensor, labels: torch.Tensor, overlap: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The public code's NPC: N negatives drawn from own negatives + others' positives."""
        positive = labels == 1
        new_points, new_labels = [], []
        for i in rows.tolist():
            own_pos = points[i][positive[i]]
            candidates = torch.cat(
                [points[i][labels[i] == 0], points[overlap[i]][positive[overlap[i]]]]
            )
            n = len(own_pos)
            if self.max_negatives is not None:
                n = min(n, self.max_negatives)
            draw = torch.randperm(len(candidates))[:n].to(points.device)
            negatives = candidates[draw]
            new_points.append(torch.cat([own_pos, negatives]))
            new_labels.append(
                torch.cat([labels.new_ones(len(own_pos)), labels.new_zeros(len(negatives))])
            )
        width = max(len(p) for p in new_points)
        out_points = points.new_zeros((len(rows), width, 2))
        out_labels = labels.new_full((len(rows), width), -1)
        for k, (pts, lbs) in enumerate(zip(new_points, new_labels)):
            out_points[k, : len(pts)], out_labels[k, : len(lbs)] = pts, lbs
        return rows, out_points, out_labels

    def separable(self, points: torch.Tensor, labels: torch.Tensor, cell: float) -> torch.Tensor:
        """(N, N) bool: every positive of j lies at least ``min_negative_distance`` cells (of
        ``cell`` input pixels) from every positive of i, so j's clicks can be i's negatives."""
        num = len(points)
        if self.min_negative_distance <= 0 or num == 0:
            return torch.ones((num, num), dtype=torch.bool, device=points.device)
        positive = labels == 1
        # (N, P, N, P) distances between the positives of i and those of j, in cells
        dist = torch.cdist(points.reshape(-1, 2).float(), points.reshape(-1, 2).float()) / cell
        dist = dist.view(num, points.shape[1], num, points.shape[1])
        both = positive[:, :, None, None] & positive[None, None, :, :]
        dist = torch.where(both, dist, dist.new_full((), float('inf')))
        return dist.amin(dim=(1, 3)) >= self.min_negative_distance

    def prompts_from_masks(
        self,
        masks: torch.Tensor,
        batch_idx: torch.Tensor,
        points: torch.Tensor,
        labels: torch.Tensor,
        cell: float = 1.0,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`calibrated_prompts` for the instances whose masks (N, H, W) overlap (and,
        with ``min_negative_distance``, whose clicks are apart by that many ``cell``-pixel
        cells)."""
        mask_iou = pairwise_mask_iou(masks, batch_idx)
        overlap = (mask_iou > self.iou_thr) & self.separable(points, labels, cell)
        return self.calibrated_prompts(points, labels, overlap, mask_iou)

    def keep_calibrated(self, plain: torch.Tensor, calibrated: torch.Tensor) -> torch.Tensor:
        """(M,) bool: which calibrated masks (M, L, L) bool replace the plain ones: all without
        ``min_kept``; with it, those that are non-empty and keep at least ``min_kept`` of the
        plain mask's cells (an empty plain mask is replaced by any non-empty answer)."""
        if self.min_kept is None:
            return torch.ones(len(plain), dtype=torch.bool, device=plain.device)
        plain_area = plain.flatten(1).sum(1).float()
        kept = (plain & calibrated).flatten(1).sum(1).float()
        non_empty = calibrated.flatten(1).any(1)
        return non_empty & (kept >= self.min_kept * plain_area)

    @torch.no_grad()
    def __call__(
        self,
        sam,
        embeddings: torch.Tensor,
        batch_idx: torch.Tensor,
        points: torch.Tensor,
        labels: torch.Tensor,
        logits: torch.Tensor,
        iou_pred: torch.Tensor,
        progress: Optional[ProgressFn] = None,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Re-decode overlapping instances with calibrated prompts.

        ``logits`` (N, L, L) are the first predictions of the same prompts on ``embeddings``. The
        IoU matrix is computed on these low-res masks (the paper's full-resolution loop gives the
        same overlaps at a fraction of the cost). ``progress(stage, done, total)`` is called as
        the re-decoding goes (in chunks; same result).

        Returns:
            Calibrated logits (N, L, L), predicted IoU (N,), and a bool (N,) marking the instances
            that were calibrated (with ``min_kept``: whose calibrated answer was kept).
        """
        cell = sam.img_size / logits.shape[-1]
        rows, new_points, new_labels = self.prompts_from_masks(
            logits > sam.mask_threshold, batch_idx, points, labels, cell
        )
        calibrated = torch.zeros(len(logits), dtype=torch.bool, device=logits.device)
        if rows.numel() == 0:
            return logits, iou_pred, calibrated
        new_logits, new_iou = decode_per_image(
            sam, embeddings, batch_idx[rows], new_points, new_labels, progress, stage='NPC'
        )
        keep = self.keep_calibrated(
            logits[rows] > sam.mask_threshold, new_logits > sam.mask_threshold
        )
        rows, new_logits, new_iou = rows[keep], new_logits[keep], new_iou[keep]
        logits = logits.index_copy(0, rows, new_logits.to(logits.dtype))
        iou_pred = iou_pred.index_copy(0, rows, new_iou.to(iou_pred.dtype))
        calibrated[rows] = True
        return logits, iou_pred, calibrated
