"""Training and evaluation through MMEngine's Runner: tiny SAM, real NWPU images (tests/data)."""

import copy
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'


@pytest.mark.parametrize('batch_size', [2])
def test_supervised_train_two_iterations_then_evaluate(tmp_path, batch_size, tiny_cfg):
    cfg = tiny_cfg('supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.log_processor = dict(by_epoch=False)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    runner.train()
    after = model.state_dict()
    lora = [k for k in before if 'lora_' in k]
    frozen = [k for k in before if 'lora_' not in k]
    assert lora and any(not torch.equal(before[k], after[k]) for k in lora)
    assert all(torch.equal(before[k], after[k]) for k in frozen)
    metrics = runner.val_loop.run()
    for key in ('sam/mIoU', 'sam/mF1', 'sam/instance_mIoU', 'sam/instance_mF1'):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics['sam/num_images'] == 4
    assert osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))


def test_direct_evaluation_is_repeatable(tmp_path, tiny_cfg):
    cfg = tiny_cfg('sam_direct/sam-direct_sam-vit-b_nwpu.py', str(tmp_path))
    cfg.test_dataloader.batch_size = 2
    first = Runner.from_cfg(copy.deepcopy(cfg))
    first.model.init_weights()
    state = first.model.state_dict()
    m1 = first.test()
    second = Runner.from_cfg(copy.deepcopy(cfg))
    second.model.load_state_dict(state)
    m2 = second.test()
    assert m1 == m2
    assert m1['sam/num_instances'] > 4


def test_test_tool_command_line(tmp_path):
    """tools/test.py from the repository root, no PYTHONPATH, --num-points switch."""
    cmd = [
        sys.executable,
        'tools/test.py',
        'configs/sam_direct/sam-direct_sam-vit-b_nwpu.py',
        '--sam-checkpoint',
        'none',
        '--num-points',
        '2',
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        'model.sam.arch=tiny',
        'model.sam.img_size=256',
        'model.data_preprocessor.img_size=256',
        f'test_dataloader.dataset.data_root={DATA}',
        'test_dataloader.dataset.ann_file=annotations/val.json',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
    ]
    env = {k: v for k, v in __import__('os').environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'sam/mIoU' in log
    assert 'RANDOM' in log  # random weights are announced
    assert 'num_points=2' in log  # the switch reached the pipeline (printed config)
