"""A NaN loss stops training naming the iteration and the term; no NaN checkpoint is saved (#13)."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmpointsam.engine.hooks import FiniteLossHook


def test_nan_loss_stops_training_before_any_checkpoint(tmp_path, tiny_cfg):
    cfg = tiny_cfg('supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    assert cfg.default_hooks.finite_loss.type == 'FiniteLossHook'  # on by default
    cfg.model.loss_dice.loss_weight = float('nan')  # loss_dice is NaN from the first iteration
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FloatingPointError) as excinfo:
        runner.train()
    msg = str(excinfo.value)
    assert 'non-finite loss at iteration 1 ' in msg and 'loss_dice=nan' in msg
    assert 'loss_focal' not in msg  # only the bad terms are named
    assert glob.glob(osp.join(str(tmp_path), '**', '*.pth'), recursive=True) == []


def test_a_state_dict_with_nan_is_never_saved():
    hook = FiniteLossHook()
    good = dict(state_dict={'w': torch.ones(3), 'n': torch.tensor(2)})
    hook.before_save_checkpoint(None, good)
    bad = dict(state_dict={'w': torch.tensor([1.0, float('inf')]), 'b': torch.ones(1)})
    with pytest.raises(FloatingPointError, match=r"refusing to save.*\['w'\]"):
        hook.before_save_checkpoint(None, bad)


def _nan_run(tmp_path, tiny_cfg, max_skips):
    cfg = tiny_cfg('supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    cfg.model.loss_dice.loss_weight = float('nan')
    cfg.optim_wrapper.type = 'SkipNonFiniteOptimWrapper'
    cfg.optim_wrapper.max_skips = max_skips
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=100)
    return Runner.from_cfg(cfg)


def test_skip_and_count_updates_nothing_and_saves_finite_weights(tmp_path, tiny_cfg):
    runner = _nan_run(tmp_path, tiny_cfg, max_skips=10)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()  # 4 images, 4 iterations, all skipped
    assert runner.optim_wrapper.num_skipped == 4
    after = runner.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    saved = torch.load(osp.join(str(tmp_path), 'epoch_1.pth'), weights_only=False)
    assert all(
        torch.isfinite(v).all() for v in saved['state_dict'].values() if v.is_floating_point()
    )


def test_skip_and_count_stops_past_max_skips(tmp_path, tiny_cfg):
    runner = _nan_run(tmp_path, tiny_cfg, max_skips=1)
    with pytest.raises(FloatingPointError, match=r'2 iterations skipped .*max_skips=1'):
        runner.train()
    assert glob.glob(osp.join(str(tmp_path), '**', '*.pth'), recursive=True) == []
