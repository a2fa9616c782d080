"""Choosing one of SAM's three masks per click: scorers on hand-made candidates."""

import numpy as np
import pytest

from mmpointsam.models.task_modules import (
    AreaPriorScorer,
    ClickCentreScorer,
    MaskCandidates,
    MaskSelector,
    RectangularityScorer,
)
from mmpointsam.registry import TASK_UTILS


def _candidates(pred_iou=(0.9, 0.8, 0.7), class_name='ship'):
    """A 40 x 20 ship at x 30..70, y 40..60 clicked at its centre (50, 50): 0 = an L-shaped
    part that has the click near its edge, 1 = the ship, 2 = the ship and its shadow (an L)."""
    part = np.zeros((100, 100), bool)
    part[40:52, 38:52] = True
    part[40:60, 38:42] = True
    ship = np.zeros((100, 100), bool)
    ship[40:60, 30:70] = True
    shadow = ship.copy()
    shadow[60:95, 50:90] = True
    return MaskCandidates(np.stack([part, ship, shadow]), np.array(pred_iou), (50, 50), class_name)


def test_each_scorer_prefers_the_expected_mask():
    cand = _candidates()
    # SAM's own ranking picks the part
    assert MaskSelector()(cand)[0] == 0
    # the click sits at the ship's centroid, at the part's rim
    centre = ClickCentreScorer()(cand)
    assert np.argmax(centre) == 1 and centre[1] == pytest.approx(1.0, abs=0.1)
    # the ship is a rectangle; the L and the shadowed ship are not
    rect = RectangularityScorer()(cand)
    assert np.argmax(rect) == 1 and rect[1] == pytest.approx(1.0)
    assert rect[2] == pytest.approx(2200 / (60 * 55))
    # a ship prior of 800 px picks the 800-px ship; a class without a prior scores 1
    prior = AreaPriorScorer(priors=dict(ship=(800, 0.5)))
    assert np.argmax(prior(cand)) == 1 and prior(cand)[1] == pytest.approx(1.0)
    assert prior(_candidates(class_name='plane')).tolist() == [1.0, 1.0, 1.0]


def test_weighted_selector_from_config_and_flagging():
    cfg = dict(
        type='MaskSelector',
        min_score=0.6,
        low_score='skip',
        scorers=[
            dict(type='PredictedIoUScorer', weight=1.0),
            dict(type='ClickCentreScorer', weight=2.0),
            dict(type='RectangularityScorer', weight=1.0),
        ],
    )
    selector = TASK_UTILS.build(cfg)
    best, score, flagged = selector(_candidates())
    centre = ClickCentreScorer()(_candidates())[1]
    assert best == 1 and not flagged and score == pytest.approx((0.8 + 2 * centre + 1) / 4)
    # a click off every mask: no centre score, weak IoU -> flagged
    cand = _candidates(pred_iou=(0.1, 0.1, 0.1))
    cand.click = np.array([5.0, 5.0])
    _, score, flagged = selector(cand)
    assert flagged and score < 0.6
    # empty candidates score 0 whatever the scorers say
    empty = MaskCandidates(np.zeros((3, 8, 8), bool), np.ones(3), (4, 4), 'ship')
    assert selector.scores(empty).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match='low_score'):
        MaskSelector(low_score='drop')
