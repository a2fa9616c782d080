"""--cfg-options of a top-level variable that the config used while it was read (#25): refused,
naming the keys to set instead, because MMEngine evaluates those uses once, at load time."""

import os.path as osp

import pytest
from mmengine.config import Config

from mmpointsam.utils.config import check_cfg_options, consumed_variable_uses, merge_cfg_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the configs used here, named once (the configs/<method>/ move renames them here only)
TRAIN_CONFIG = osp.join(REPO, 'configs', 'supervised', 'supervised_sam-vit-b-lora_10e_nwpu.py')
SELFTRAIN_CONFIG = osp.join(REPO, 'configs', 'pointsam', 'pointsam_sam-vit-b-lora_10e_nwpu.py')


def _error(config, options):
    cfg = Config.fromfile(config)
    with pytest.raises(ValueError) as excinfo:
        merge_cfg_options(cfg, options)
    return str(excinfo.value)


def test_uses_are_found_in_base_files_with_their_keys():
    uses = consumed_variable_uses(TRAIN_CONFIG, 'max_epochs')
    assert sorted((osp.relpath(f, REPO), k, d) for f, k, d in uses) == [
        ('configs/_base_/schedules/adam_10e.py', 'param_scheduler.1.end', True),
        ('configs/_base_/schedules/adam_10e.py', 'train_cfg.max_epochs', True),
    ]


def test_consumed_variable_is_refused_naming_the_keys():
    msg = _error(TRAIN_CONFIG, {'max_epochs': 1})
    assert msg == (
        "--cfg-options max_epochs=1: 'max_epochs' is a variable that "
        'configs/_base_/schedules/adam_10e.py used when the config was read (in '
        'param_scheduler.1.end, train_cfg.max_epochs), so changing it now changes nothing '
        'there. Set param_scheduler.1.end=1 train_cfg.max_epochs=1 instead.'
    )
    msg = _error(TRAIN_CONFIG, {'data_root': '/data/nwpu/'})
    assert 'Set train_dataloader.dataset.data_root=/data/nwpu/' in msg
    assert 'test_dataloader.dataset.data_root=/data/nwpu/ instead.' in msg


def test_uses_are_followed_through_variables_and_dead_ones_say_so():
    # max_train_instances -> train_pipeline, which the self-training config does not use
    msg = _error(SELFTRAIN_CONFIG, {'max_train_instances': 5})
    assert msg.endswith('No key of the loaded config holds it: the option has no effect.')
    # ... while the supervised config's train loader holds it through train_pipeline
    msg = _error(TRAIN_CONFIG, {'max_train_instances': 5})
    assert 'Set train_dataloader.dataset.pipeline.3.max_instances=5 instead.' in msg


def test_computed_uses_are_named_as_such(tmp_path):
    # a config that computes a value from a variable (as mmrotate's DOTA configs do with classes)
    config = tmp_path / 'computed.py'
    config.write_text(
        "classes = ('plane', 'ship')\n"
        'model = dict(bbox_head=dict(num_classes=len(classes)))\n'
        'train_dataloader = dict(dataset=dict(metainfo=dict(classes=classes)))\n'
    )
    msg = _error(str(config), {'classes': ['ship']})
    assert 'model.bbox_head.num_classes (computed from it)' in msg
    assert "Set train_dataloader.dataset.metainfo.classes=['ship']" in msg


def test_allowed_options_merge():
    cfg = Config.fromfile(TRAIN_CONFIG)
    check_cfg_options(cfg, {'train_cfg.max_epochs': 1, 'model.sam.arch': 'tiny'})
    check_cfg_options(cfg, {'num_points': 3})  # applied after loading (apply_num_points)
    check_cfg_options(cfg, {'work_dir': 'x', 'load_from': None})  # read by the Runner itself
    # the variable together with every key it went into
    merge_cfg_options(cfg, {'max_epochs': 2, 'train_cfg.max_epochs': 2, 'param_scheduler.1.end': 2})
    assert cfg.train_cfg.max_epochs == 2 and cfg.max_epochs == 2
