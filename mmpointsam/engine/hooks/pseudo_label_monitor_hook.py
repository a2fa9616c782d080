"""Early warning of self-training collapse: watch the pseudo-mask statistics that
``PointPromptSelfTraining`` logs and warn when they drift toward empty or shrinking masks.

Collapse shows in the pseudo masks long before any validation metric: the share of empty masks
climbs, their area falls against the first iterations', and the student's answers on the strong
view stop agreeing with the teacher's on the weak one (issue 21).
"""

import logging
from collections import deque
from typing import Deque, Dict, List, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmpointsam.registry import HOOKS

from .finite_loss_hook import _value


@HOOKS.register_module()
class PseudoLabelMonitorHook(Hook):
    """Warn when the moving means of the pseudo-mask statistics cross a collapse threshold.

    Args:
        window: iterations averaged before a value is judged (the first ``window`` iterations
            are never judged).
        max_empty_rise: warn when the mean ``pseudo_empty_share`` has risen by more than this
            over its first window's mean: a drift toward empty masks. Judged against the start,
            not absolutely: a weak model answers many tiny objects with nothing from the first
            iteration on (a third of them on the proxy), which is no collapse.
        min_area_ratio: warn below this mean ``pseudo_area_ratio`` (the pseudo masks' mean area
            over that of the first iterations).
        max_area_ratio: warn above this mean ``pseudo_area_ratio``: the other way to collapse,
            masks that bleed into the background (seen on the proxy when empty masks no longer
            train the student; docs/en/benchmarks.md). None: not watched.
        min_view_iou: warn below this mean ``pseudo_view_iou`` (None: not watched).
        max_gate_dropped: warn above this mean ``gate_dropped`` (the gate throws away most of
            the batch: the teacher has little left to teach).
        interval: a warning of one kind is repeated at most every ``interval`` iterations.
    """

    priority = 'BELOW_NORMAL'

    def __init__(
        self,
        window: int = 10,
        max_empty_rise: float = 0.2,
        min_area_ratio: float = 0.5,
        max_area_ratio: Optional[float] = 4.0,
        min_view_iou: Optional[float] = None,
        max_gate_dropped: float = 0.5,
        interval: int = 50,
    ) -> None:
        self.window = window
        self.rules = {
            'pseudo_empty_share': ('rise', max_empty_rise),
            'pseudo_area_ratio': ('below', min_area_ratio),
            'pseudo_area_growth': ('above', max_area_ratio),
            'pseudo_view_iou': ('below', min_view_iou),
            'gate_dropped': ('above', max_gate_dropped),
        }
        self.interval = interval
        self.history: Dict[str, Deque[float]] = {k: deque(maxlen=window) for k in self.rules}
        self.last_warned: Dict[str, int] = {}
        self.first_mean: Dict[str, float] = {}  # each statistic's first full window
        self.warnings: List[dict] = []  # every warning given: iteration, key, mean, threshold

    def check(self, iteration: int, values: Dict[str, float]) -> List[dict]:
        """Add one iteration's values; return the warnings due at this iteration."""
        due = []
        for key, (side, limit) in self.rules.items():
            if key not in values or limit is None:
                continue
            hist = self.history[key]
            hist.append(values[key])
            if len(hist) < self.window:
                continue
            mean = sum(hist) / len(hist)
            start = self.first_mean.setdefault(key, mean)
            if side == 'rise':
                bad = mean - start > limit
            else:
                bad = mean > limit if side == 'above' else mean < limit
            last = self.last_warned.get(key)
            if bad and (last is None or iteration - last >= self.interval):
                self.last_warned[key] = iteration
                due.append(dict(iter=iteration, key=key, mean=mean, limit=limit, side=side))
        return due

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Optional[Dict] = None
    ) -> None:
        """Judge this iteration's pseudo-mask statistics and log a warning when due."""
        if not outputs:
            return
        values = {k: _value(v) for k, v in outputs.items() if k in self.rules}
        if 'pseudo_area_ratio' in values:  # the same statistic, judged from above
            values['pseudo_area_growth'] = values['pseudo_area_ratio']
        for w in self.check(runner.iter + 1, values):
            self.warnings.append(w)
            print_log(
                f'self-training may be collapsing at iteration {w["iter"]}: mean {w["key"]} over '
                f'the last {self.window} iterations is {w["mean"]:.3f}, {w["side"]} '
                f'(limit {w["limit"]:g}). The pseudo masks are emptying or shrinking: check '
                'the learning rate, the teacher (EMATeacher) and the guards (PseudoLabelGate, '
                "NPC's min_kept, the refiner's min_area_ratio; configs/pointsam/README.md).",
                logger='current',
                level=logging.WARNING,
            )
        runner.message_hub.update_info('pseudo_collapse_warnings', len(self.warnings))
