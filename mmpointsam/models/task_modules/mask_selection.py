"""Pick one of SAM's three candidate masks per click, by configurable scorers.

A single click is ambiguous (a wing, the plane, the plane and its shadow); SAM answers with three
masks. :class:`MaskSelector` scores each with a weighted mean of registered scorers (each in
[0, 1]) and keeps the best; a click whose best score is under ``min_score`` is flagged (kept or
skipped by the caller). Scorers work on the candidates at the original image size.
"""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.registry import DefaultScope

from mmpointsam.registry import TASK_UTILS
from mmpointsam.structures import mask_to_rbox


class MaskCandidates:
    """SAM's candidate masks of one click, with what scorers look at (computed once)."""

    def __init__(
        self, masks: np.ndarray, pred_iou: np.ndarray, click: Sequence[float], class_name: str
    ) -> None:
        self.masks = np.asarray(masks, dtype=bool)  # (K, H, W)
        self.pred_iou = np.asarray(pred_iou, dtype=np.float64)  # (K,)
        self.click = np.asarray(click, dtype=np.float64)  # (x, y) pixel index
        self.class_name = class_name
        self.areas = self.masks.reshape(len(self.masks), -1).sum(axis=1).astype(np.float64)
        self._rboxes = None

    @property
    def rboxes(self) -> List[Optional[np.ndarray]]:
        """The le90 rbox of each candidate (None when empty)."""
        if self._rboxes is None:
            self._rboxes = [mask_to_rbox(m) for m in self.masks]
        return self._rboxes


@TASK_UTILS.register_module()
class PredictedIoUScorer:
    """SAM's own predicted IoU (what SAM's multimask output picks by)."""

    def __call__(self, cand: MaskCandidates) -> np.ndarray:
        return np.clip(cand.pred_iou, 0.0, 1.0)


@TASK_UTILS.register_module()
class ClickCentreScorer:
    """How central the click is: 1 at the mask's centroid, falling linearly to 0 at the
    equivalent-disc radius (sqrt(area / pi)) away; 0 when the click is not on the mask."""

    def __call__(self, cand: MaskCandidates) -> np.ndarray:
        x, y = (int(v) for v in cand.click)
        scores = np.zeros(len(cand.masks))
        for k, mask in enumerate(cand.masks):
            if not (0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]) or not mask[y, x]:
                continue
            ys, xs = np.nonzero(mask)
            dist = np.hypot(xs.mean() - x, ys.mean() - y)
            scores[k] = max(0.0, 1.0 - dist / np.sqrt(cand.areas[k] / np.pi))
        return scores


@TASK_UTILS.register_module()
class RectangularityScorer:
    """Mask area over its rotated box's area: 1 for a rectangle (vehicles, ships, courts,
    roofs), pi/4 for a disc, low for ragged or multi-blob masks."""

    def __call__(self, cand: MaskCandidates) -> np.ndarray:
        scores = np.zeros(len(cand.masks))
        for k, rbox in enumerate(cand.rboxes):
            if rbox is not None and rbox[2] * rbox[3] > 0:
                scores[k] = min(1.0, cand.areas[k] / (rbox[2] * rbox[3]))
        return scores


@TASK_UTILS.register_module()
class AreaPriorScorer:
    """Per-class log-normal area prior: ``priors={class: (median_area_px, sigma_log)}``;
    exp(-(ln(area / median))^2 / (2 sigma^2)). Classes without a prior score 1."""

    def __init__(self, priors: Dict[str, Tuple[float, float]]) -> None:
        self.priors = {k: (float(v[0]), float(v[1])) for k, v in priors.items()}

    def __call__(self, cand: MaskCandidates) -> np.ndarray:
        if cand.class_name not in self.priors:
            return np.ones(len(cand.masks))
        median, sigma = self.priors[cand.class_name]
        log_ratio = np.log(np.maximum(cand.areas, 1.0) / median)
        return np.where(cand.areas > 0, np.exp(-0.5 * (log_ratio / sigma) ** 2), 0.0)


@TASK_UTILS.register_module()
class MaskSelector:
    """Score each candidate mask with a weighted mean of scorers and keep the best.

    Args:
        scorers: scorer configs, each with an optional ``weight`` (default 1).
        min_score: a click whose best score is below this is flagged (None: never).
        low_score: ``'flag'`` keeps a flagged click's box, ``'skip'`` drops it (no box).
    """

    def __init__(
        self,
        scorers: Sequence[Union[dict, object]] = (dict(type='PredictedIoUScorer'),),
        min_score: Optional[float] = None,
        low_score: str = 'flag',
    ) -> None:
        if low_score not in ('flag', 'skip'):
            raise ValueError(f"low_score must be 'flag' or 'skip', got {low_score!r}")
        self.scorers, self.weights = [], []
        for cfg in scorers:
            if isinstance(cfg, dict):
                cfg = dict(cfg)
                self.weights.append(float(cfg.pop('weight', 1.0)))
                # ours also when another package's scope is current (e.g. after an MMRotate runner)
                with DefaultScope.overwrite_default_scope('mmpointsam'):
                    self.scorers.append(TASK_UTILS.build(cfg))
            else:
                self.weights.append(1.0)
                self.scorers.append(cfg)
        if not self.scorers or sum(self.weights) <= 0:
            raise ValueError('MaskSelector needs at least one scorer with a positive weight')
        self.min_score = min_score
        self.low_score = low_score

    def scores(self, cand: MaskCandidates) -> np.ndarray:
        """Weighted mean score (K,) of the candidates; empty masks score 0."""
        total = sum(w * s(cand) for w, s in zip(self.weights, self.scorers))
        return np.where(cand.areas > 0, total / sum(self.weights), 0.0)

    def __call__(self, cand: MaskCandidates) -> Tuple[int, float, bool]:
        """Index of the kept candidate, its score, and whether the click is flagged."""
        scores = self.scores(cand)
        best = int(np.argmax(scores))
        flagged = self.min_score is not None and scores[best] < self.min_score
        return best, float(scores[best]), bool(flagged)
