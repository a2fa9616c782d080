"""Self-training configs through MMEngine's Runner: tiny SAM, real NWPU images (tests/data)."""

import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.registry import init_default_scope
from mmengine.runner import Runner


def _iter_cfg(cfg, iters, ckpt_interval=None):
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=1000)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=iters)
    ]
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=ckpt_interval or iters
    )
    cfg.log_processor = dict(by_epoch=False)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


@pytest.fixture(scope='module')
def target_prototypes(tmp_path_factory):
    """Target prototypes made by the offline tool from the tiny frozen SAM."""
    import importlib.util

    from conftest import shrink_config

    spec = importlib.util.spec_from_file_location(
        'compute_prototypes', osp.join(REPO, 'tools', 'compute_prototypes.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = shrink_config(
        'pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path_factory.mktemp('protos'))
    )
    init_default_scope('mmpointsam')
    result = tool.compute_prototypes(cfg, max_images=4)
    assert result['num_images'] == 4 and result['prototypes'].shape[1] == 32
    assert result['num_features'] == 28  # one positive point per training instance
    path = tmp_path_factory.mktemp('protos') / 'protos.pth'
    torch.save(result, path)
    return str(path)


def _configure(cfg, target_prototypes):
    st = cfg.model.self_training
    if st.get('prototype_loss'):
        st.prototype_loss.update(
            target_prototypes=target_prototypes, bank_size=8, cluster_interval=1
        )
    cfg.train_dataloader.batch_size = 2
    return cfg


@pytest.mark.parametrize(
    'config',
    [
        'selftrain/selftrain_sam-vit-b-lora_10e_nwpu.py',
        'pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py',
        'resam/resam_sam-vit-b-lora_10e_nwpu.py',
    ],
)
def test_self_training_configs_train(config, tmp_path, tiny_cfg, target_prototypes):
    cfg = _configure(_iter_cfg(tiny_cfg(config, str(tmp_path)), 3), target_prototypes)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    before = {k: v.detach().clone() for k, v in model.sam.state_dict().items()}
    runner.train()
    after = model.sam.state_dict()
    lora = [k for k in before if 'lora_' in k]
    assert lora and any(not torch.equal(before[k], after[k]) for k in lora)
    assert all(torch.equal(before[k], after[k]) for k in before if 'lora_' not in k)
    scalars = runner.message_hub.log_scalars
    assert 'train/pseudo_iou' in scalars
    # these configs resample prompts from masks: the pseudo masks' quality is logged too
    assert 0.0 <= scalars['train/pseudo_gt_iou'].current() <= 1.0
    if not config.startswith('selftrain'):
        # PointSAM's and ReSAM's EMA teacher lags by a third of the run (3 iterations here)
        teacher = model.self_training.teacher
        assert type(teacher).__name__ == 'EMATeacher'
        assert abs(teacher.momentum - 1.0 / runner.max_iters * 3) < 1e-12
    if config.startswith('pointsam'):
        assert 'train/loss_pbr' in scalars
        assert int(model.self_training.prototype_loss.num_pred) > 0  # bank filled, clustered
    if config.startswith('resam'):
        assert 'train/loss_align' in scalars


def test_resume_continues_schedule_and_memory_bank(tmp_path, tiny_cfg, target_prototypes):
    cfg = _configure(
        _iter_cfg(tiny_cfg('pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path)), 2),
        target_prototypes,
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    bank = runner.model.self_training.prototype_loss.bank
    saved_count = int(bank.count)
    saved_feats = bank.features.clone()
    assert saved_count > 0

    cfg2 = _configure(
        _iter_cfg(tiny_cfg('pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path)), 3),
        target_prototypes,
    )
    cfg2.resume = True
    cfg2.load_from = osp.join(str(tmp_path), 'iter_2.pth')
    resumed = Runner.from_cfg(cfg2)
    reg = resumed.model.self_training.prototype_loss
    seen = {}

    from mmengine.hooks import Hook

    class Probe(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            seen.setdefault('iter', runner.iter)
            seen.setdefault('count', int(reg.bank.count))
            seen.setdefault('feats', reg.bank.features.clone())

    resumed.register_hook(Probe())
    resumed.train()
    assert seen['iter'] == 2  # the schedule goes on from the checkpoint
    assert seen['count'] == saved_count and torch.equal(seen['feats'], saved_feats)
    assert int(reg.bank.count) > saved_count
