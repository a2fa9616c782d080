"""The early warning of issue 21: a run whose pseudo masks shrink and empty is flagged, a
stable one is not."""

from types import SimpleNamespace

import torch
from mmengine.logging import MessageHub

from mmpointsam.engine.hooks import PseudoLabelMonitorHook
from mmpointsam.models.self_training import PseudoMaskStatistics


def _run(hook, stats, areas, empty_every=None, name='monitor'):
    """Feed the hook the statistics of pseudo masks of the given areas (4 masks an
    iteration, 16 x 16 grid); every ``empty_every``-th iteration from the 20th on, more of the
    masks are empty."""
    runner = SimpleNamespace(iter=0, message_hub=MessageHub.get_instance(name))
    for i, area in enumerate(areas):
        masks = torch.zeros(4, 16, 16, dtype=torch.bool)
        masks.view(4, -1)[:, :area] = True
        if empty_every and i >= 20:
            masks[: min(4, (i - 20) // empty_every + 1)] = False
        runner.iter = i
        outputs = {k: v for k, v in stats(masks).items()}
        outputs['loss_focal'] = torch.tensor(0.1)
        hook.after_train_iter(runner, i, outputs=outputs)
    return runner


def test_collapsing_run_is_flagged():
    """Masks shrink from 40 cells to 4 over 60 iterations and empty out: the hook warns on the
    area ratio and on the empty share, once each (interval longer than the run)."""
    hook = PseudoLabelMonitorHook(window=5, max_empty_rise=0.2, min_area_ratio=0.5, interval=100)
    areas = [40] * 10 + [max(40 - 2 * i, 4) for i in range(50)]
    runner = _run(hook, PseudoMaskStatistics(ref_iters=5), areas, empty_every=5)
    kinds = [w['key'] for w in hook.warnings]
    assert sorted(kinds) == ['pseudo_area_ratio', 'pseudo_empty_share']
    area_warning = next(w for w in hook.warnings if w['key'] == 'pseudo_area_ratio')
    # the 5-iteration mean falls below 0.5 (20 cells) when areas reach ~18: iteration ~22
    assert 15 <= area_warning['iter'] <= 30
    assert runner.message_hub.get_info('pseudo_collapse_warnings') == 2


def test_growing_masks_are_flagged():
    """Masks that bleed from 10 to 60 cells (area ratio 6) are flagged as growth."""
    hook = PseudoLabelMonitorHook(window=5, max_area_ratio=4.0, interval=100)
    areas = [10] * 10 + [min(10 + 2 * i, 60) for i in range(40)]
    _run(hook, PseudoMaskStatistics(ref_iters=5), areas, name='monitor_growth')
    assert [w['key'] for w in hook.warnings] == ['pseudo_area_growth']
    assert hook.warnings[0]['side'] == 'above'


def test_empty_masks_from_the_start_are_no_collapse():
    """A weak model that answers a quarter of its clicks with nothing from the first iteration
    on, steadily, is not flagged; the same share rising from nothing is."""
    steady = PseudoLabelMonitorHook(window=3, interval=100)
    for i in range(30):
        steady.check(i, {'pseudo_empty_share': 0.25})
    assert steady.warnings == [] and steady.last_warned == {}
    fresh = PseudoLabelMonitorHook(window=3, interval=100)
    due = [fresh.check(i, {'pseudo_empty_share': 0.0 if i < 10 else 0.25}) for i in range(30)]
    assert [d[0]['key'] for d in due if d] == ['pseudo_empty_share']


def test_stable_run_is_not_flagged():
    hook = PseudoLabelMonitorHook(window=5)
    _run(hook, PseudoMaskStatistics(ref_iters=5), [40, 38, 42, 41] * 15, name='monitor_stable')
    assert hook.warnings == []


def test_warnings_repeat_at_most_every_interval_and_unknown_keys_are_ignored():
    hook = PseudoLabelMonitorHook(window=2, max_gate_dropped=0.5, interval=10)
    due = [hook.check(i, {'gate_dropped': 0.9, 'other': 1.0}) for i in range(1, 30)]
    flagged = [i + 1 for i, d in enumerate(due) if d]
    assert flagged == [2, 12, 22]


def test_on_by_default_and_silent_without_statistics(tiny_cfg, tmp_path):
    """Every config has the monitor (default_runtime.py); a supervised run logs no pseudo-mask
    statistics and gets no warning."""
    cfg = tiny_cfg('supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    assert cfg.default_hooks.pseudo_monitor.type == 'PseudoLabelMonitorHook'
    hook = PseudoLabelMonitorHook(window=1)
    runner = SimpleNamespace(iter=0, message_hub=MessageHub.get_instance('monitor_silent'))
    hook.after_train_iter(runner, 0, outputs={'loss_focal': torch.tensor(1.0)})
    assert hook.warnings == []
