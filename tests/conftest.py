import os.path as osp

import pytest
import torch

import mmpointsam  # noqa: F401  (collections shim before mmrotate)

DATA_DIR = osp.join(osp.dirname(__file__), 'data')


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


@pytest.fixture
def data_dir():
    return DATA_DIR
