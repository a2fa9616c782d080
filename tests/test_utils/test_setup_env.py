"""register_all_modules makes mmpointsam the current default scope, whatever ran before."""

import uuid

import pytest
from mmengine.registry import DefaultScope

from mmpointsam.utils import register_all_modules


@pytest.mark.parametrize('ours_created_before', [False, True])
def test_scope_comes_back_after_another_packages_runner(ours_created_before):
    if ours_created_before:
        DefaultScope.get_instance('mmpointsam', scope_name='mmpointsam')
    # what an MMRotate Runner leaves behind
    DefaultScope.get_instance(f'rotated-det-runner-{uuid.uuid4()}', scope_name='mmrotate')
    assert DefaultScope.get_current_instance().scope_name == 'mmrotate'
    with pytest.warns(UserWarning, match='mmrotate') if ours_created_before else _nothing():
        register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmpointsam'
    from mmpointsam.registry import MODELS

    assert MODELS.get('PointSAM') is not None


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
