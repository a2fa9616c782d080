"""Every config parses; the papers' table rows have the settings they claim."""

import glob
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config

from mmpointsam.utils import apply_num_points

CONFIGS = sorted(
    p
    for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p and not osp.basename(p).startswith('_')
)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_config_parses(path):
    cfg = Config.fromfile(path)
    if 'model' in cfg:  # runnable configs (not data descriptors) name their scope
        assert cfg.get('default_scope') in ('mmpointsam', 'mmrotate', 'mmdet')
    if cfg.get('num_points') is not None:
        apply_num_points(cfg)
        samplers = [
            t for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'SamplePointPrompts'
        ]
        assert samplers and all(t['num_points'] == cfg.num_points for t in samplers)


@pytest.mark.parametrize(
    'dataset,first_block,epochs', [('nwpu', 6, 10), ('whu', 1, 5), ('hrsid', 1, 10)]
)
def test_papers_schedules(dataset, first_block, epochs):
    for method in ('selftrain', 'pointsam', 'resam'):
        cfg = Config.fromfile(osp.join(REPO, 'configs', f'{method}_{dataset}.py'))
        assert cfg.model.sam.lora.first_block == first_block
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.optim_wrapper.optimizer.lr == 5e-4
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
        assert cfg.param_scheduler[0].end == 250  # linear warm-up iterations
        # checkpoints are selected on a validation split, never on the test split
        assert cfg.val_dataloader.dataset.ann_file != cfg.test_dataloader.dataset.ann_file
        st = cfg.model.self_training
        assert bool(st.get('npc')) == (method == 'pointsam')
        assert bool(st.get('refiner')) == (method == 'resam')
    bank = Config.fromfile(osp.join(REPO, 'configs', f'pointsam_{dataset}.py'))
    assert bank.model.self_training.prototype_loss.bank_size == (128 if dataset == 'nwpu' else 512)
