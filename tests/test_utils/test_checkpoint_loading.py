"""MMEngine checkpoints load under torch's weights_only default, and nothing else sneaks in."""

import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader


def _two_iterations(cfg, iters=2, resume_from=None):
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    cfg.param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[1], gamma=0.1)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2)
    cfg.log_processor = dict(by_epoch=False)
    cfg.default_hooks.visualization.num_images = 0
    if resume_from:
        cfg.load_from, cfg.resume = resume_from, True
    return cfg


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A checkpoint written by MMEngine's Runner after 2 iterations (tiny SAM, real images)."""
    from conftest import shrink_config

    work_dir = str(tmp_path_factory.mktemp('train'))
    runner = Runner.from_cfg(
        _two_iterations(shrink_config('supervised/supervised_sam-vit-b-lora_10e_nwpu.py', work_dir))
    )
    runner.train()
    return work_dir, osp.join(work_dir, 'iter_2.pth')


def test_torch_default_refuses_and_ours_loads(trained):
    _, ckpt = trained
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(ckpt)  # torch >= 2.6: weights_only=True by default
    state = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
    assert state['meta']['iter'] == 2
    assert isinstance(state['message_hub']['log_scalars']['train/lr'], HistoryBuffer)


def test_resume_round_trip_then_test(trained, tmp_path):
    """--resume continues the schedule; tools/test.py's load_from evaluates the same file."""
    from conftest import shrink_config

    _, ckpt = trained
    cfg = _two_iterations(
        shrink_config('supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path)),
        iters=4,
        resume_from=ckpt,
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 4
    # the logged history came back with the checkpoint, and the schedule went on from it:
    # the x0.1 milestone at iteration 1 is not applied again
    lr = cfg.optim_wrapper.optimizer.lr
    lrs = runner.message_hub.get_scalar('train/lr').data[0]
    assert np.allclose(lrs, [lr, lr * 0.1, lr * 0.1, lr * 0.1])
    test_cfg = shrink_config(
        'supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path / 'test')
    )
    test_cfg.load_from = osp.join(str(tmp_path), 'iter_4.pth')
    metrics = Runner.from_cfg(test_cfg).test()
    assert 0.0 <= metrics['sam/mIoU'] <= 1.0


class _Payload:
    """Stands for any class a checkpoint should not be able to construct."""


class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def test_other_globals_and_attributes_are_refused(tmp_path):
    bad_class = tmp_path / 'class.pth'
    torch.save({'x': _Payload()}, bad_class)
    with pytest.raises(pickle.UnpicklingError, match='_Payload'):
        CheckpointLoader.load_checkpoint(str(bad_class))
    # getattr is allowed for HistoryBuffer's own methods, never for anything else
    ok = tmp_path / 'ok.pth'
    torch.save({'f': _Reduce(getattr, (HistoryBuffer, 'mean'))}, ok)
    assert CheckpointLoader.load_checkpoint(str(ok))['f'] is HistoryBuffer.mean
    bad_attr = tmp_path / 'attr.pth'
    torch.save({'f': _Reduce(getattr, (HistoryBuffer, '__init__'))}, bad_attr)
    with pytest.raises(Exception, match='refused'):
        CheckpointLoader.load_checkpoint(str(bad_attr))


def test_numpy1_files_load_under_numpy2(tmp_path):
    """Checkpoints of the previous stack (numpy 1.26) name numpy.core.multiarray."""
    new = tmp_path / 'new.pth'
    torch.save({'v': np.float64(0.25), 'a': np.arange(3)}, new)
    old = tmp_path / 'old.pth'
    with zipfile.ZipFile(new) as zin, zipfile.ZipFile(old, 'w') as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith('data.pkl'):
                assert b'numpy._core.multiarray' in data
                data = data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
            zout.writestr(item, data)
    state = CheckpointLoader.load_checkpoint(str(old))
    assert state['v'] == 0.25 and state['a'].tolist() == [0, 1, 2]
