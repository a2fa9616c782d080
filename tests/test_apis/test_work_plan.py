"""The work plan of a distributed conversion: LPT by clicks, deterministic, every image once."""

import random

import pytest

from mmpointsam.apis.work_plan import encoder_passes, image_weight, lpt_plan, plan_loads


def test_lpt_balances_by_weight_not_index():
    weights = {1: 10, 2: 8, 3: 7, 4: 3, 5: 2}
    plan = lpt_plan(weights, 2)
    # heaviest first, each to the least-loaded rank: 1->r0, 2->r1, 3->r1, 4->r0, 5->r0
    assert plan == [[1, 4, 5], [2, 3]]
    assert plan_loads(plan, weights) == [15, 15]
    # sharing by index (1, 3, 5 | 2, 4) would give 19 against 11


def test_lpt_ties_go_by_id_then_lowest_rank_and_do_not_depend_on_order():
    weights = {5: 1, 3: 1, 4: 1, 1: 1}
    assert lpt_plan(weights, 2) == [[1, 4], [3, 5]]
    shuffled = dict(sorted(weights.items(), reverse=True))
    assert lpt_plan(shuffled, 2) == lpt_plan(weights, 2)


def test_every_image_planned_once_and_loads_within_one_image():
    rng = random.Random(0)
    for world in (1, 2, 3, 8):
        weights = {i: rng.randint(1, 200) for i in range(100)}
        plan = lpt_plan(weights, world)
        assert len(plan) == world
        flat = [i for ids in plan for i in ids]
        assert sorted(flat) == sorted(weights)
        loads = plan_loads(plan, weights)
        assert max(loads) - min(loads) <= max(weights.values())


def test_more_ranks_than_images_and_bad_world_size():
    assert lpt_plan({7: 3}, 3) == [[7], [], []]
    assert lpt_plan({}, 2) == [[], []]
    with pytest.raises(ValueError, match='world_size'):
        lpt_plan({1: 1}, 0)


def _info(width, height, clicks):
    return dict(
        width=width,
        height=height,
        instances=[dict(points=[list(c)], point_labels=[1]) for c in clicks],
    )


def test_weight_counts_clicks_and_encoder_passes():
    patch = dict(size=1024, overlap=200)
    assert encoder_passes(_info(800, 600, []), patch) == 0
    assert image_weight(_info(800, 600, []), patch) == 1
    assert encoder_passes(_info(800, 600, [(1, 1), (5, 5)]), patch) == 1
    assert image_weight(_info(800, 600, [(1, 1), (5, 5)]), patch) == 2 + 1 + 1
    # 2000 px wide: windows start at 0, 824, 976; (100, 100) -> the first, (1900, 500) the last
    scene = _info(2000, 1000, [(100, 100), (120, 90), (1900, 500)])
    assert encoder_passes(scene, patch) == 2
    assert image_weight(scene, patch) == 3 + 2 + 1
    assert encoder_passes(scene, None) == 1  # whole (resized) without patches
