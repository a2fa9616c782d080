import glob
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmpointsam  # noqa: F401  (collections shim before mmrotate)

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(TESTS_DIR)
DATA_DIR = osp.join(TESTS_DIR, 'data')
NWPU = osp.join(DATA_DIR, 'nwpu_vhr10') + '/'


@pytest.fixture(autouse=True)
def _seed():
    # every RNG a pipeline or model draws from: a test's inputs must not depend on test order
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def data_dir():
    return DATA_DIR


def config_of(method: str, dataset: str, backbone: str = 'sam-vit-b', variant: str = '') -> str:
    """The path under configs/ of a method's row, e.g. ('pointsam', 'nwpu', variant='paper') ->
    'pointsam/pointsam_sam-vit-b-lora_10e_nwpu-paper.py' (configs/README.md has the scheme)."""
    algorithm = method.replace('_', '-')
    suffix = f'-{variant}' if variant else ''
    pattern = osp.join(REPO, 'configs', method, f'{algorithm}_{backbone}[-_]*{dataset}{suffix}.py')
    found = [p for p in glob.glob(pattern) if osp.basename(p).endswith(f'_{dataset}{suffix}.py')]
    assert len(found) == 1, (pattern, found)
    return osp.relpath(found[0], osp.join(REPO, 'configs'))


def shrink_config(config: str, work_dir: str, img_size: int = 256) -> Config:
    """A repo config shrunk to the tiny SAM on the repo's real NWPU images (tests/data)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    cfg.work_dir = work_dir
    cfg.model.data_preprocessor.img_size = img_size
    cfg.model.sam.update(arch='tiny', img_size=img_size, init_cfg=None)
    if cfg.model.sam.get('lora'):
        cfg.model.sam.lora.first_block = 1
    st = cfg.model.get('self_training')
    if st:
        for key in ('prototype_loss', 'alignment_loss'):
            if st.get(key):
                st[key].dim = 32  # the tiny decoder's embedding width
    for split, ann in (('train', 'train.json'), ('val', 'val.json'), ('test', 'val.json')):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = NWPU
        loader.dataset.ann_file = f'annotations/{ann}'
        loader.dataset.data_prefix = dict(img='images/')
    cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.fixture
def tiny_cfg():
    return shrink_config
