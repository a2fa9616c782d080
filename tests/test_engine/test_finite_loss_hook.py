"""A NaN loss stops training naming the iteration and the term; no NaN checkpoint is saved (#13)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmpointsam.engine.hooks import FiniteLossHook


def test_nan_loss_stops_training_before_any_checkpoint(tmp_path, tiny_cfg):
    cfg = tiny_cfg('supervised_nwpu.py', str(tmp_path))
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
