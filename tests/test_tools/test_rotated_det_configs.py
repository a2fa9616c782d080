"""The thin MMRotate configs train on the files the converter wrote and evaluate on GT (CPU)."""

import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmpointsam.apis import gt_rboxes, point2rbox
from mmpointsam.datasets import sample_point_labels
from mmpointsam.evaluation.functional.rbox_quality import _serial_map_eval

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
IMAGES = osp.join(DATA, 'images') + '/'
CONFIGS = [
    'rotated-retinanet-rbox-le90_r50_fpn_3x_nwpu-pseudo.py',
    'rotated-retinanet-rbox-le90_r50_fpn_3x_nwpu-gt.py',
    'rotated-fcos-hbox-le90_r50_fpn_3x_nwpu-pseudo.py',
    'rotated-fcos-hbox-le90_r50_fpn_3x_nwpu-gt.py',
]


@pytest.fixture(scope='module')
def label_files(tmp_path_factory):
    return make_label_files(tmp_path_factory.mktemp('labels'))


def make_label_files(tmp) -> dict:
    """Pseudo labels (tiny random SAM) and GT rotated boxes of the test train split."""
    train_json = osp.join(DATA, 'annotations', 'train.json')
    sample_point_labels(train_json, str(tmp / 'points.json'))
    sam_cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'sam_direct/sam-direct_mobilesam-vit-t_nwpu.py')
    )
    sam_cfg.model.sam.update(arch='tiny', img_size=256)
    sam_cfg.model.data_preprocessor.img_size = 256
    pseudo = point2rbox(
        sam_cfg,
        str(tmp / 'points.json'),
        IMAGES,
        str(tmp / 'pseudo'),
        sam_checkpoint='none',
        progress=False,
    )
    assert pseudo['boxes_total'] > 0
    gt = gt_rboxes(train_json, str(tmp / 'gt'), progress=False)
    return dict(pseudo=pseudo['json'], gt=gt['json'])


def small_cfg(name: str, label_files: dict, work_dir: str) -> Config:
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'rotated_det', name))
    assert cfg.default_scope == 'mmrotate' and cfg.model.bbox_head.num_classes == 10
    # the config's own train labels: pseudo or ground truth
    kind = (
        'gt' if cfg.train_dataloader.dataset.ann_file.endswith('gt_train/labels.json') else 'pseudo'
    )
    assert kind in name
    cfg.work_dir = work_dir
    cfg.model.backbone.init_cfg = None  # no ImageNet download in tests
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers, loader.persistent_workers = 0, False
        loader.dataset.data_root = ''
        loader.dataset.data_prefix = dict(img=IMAGES)
        for step in loader.dataset.pipeline:
            if step['type'] == 'mmdet.Resize':
                step['scale'] = (128, 128)
    cfg.train_dataloader.dataset.ann_file = label_files[kind]
    for split in ('val', 'test'):
        cfg[f'{split}_dataloader'].dataset.ann_file = osp.join(DATA, 'annotations', 'val.json')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False)
    return cfg


@pytest.mark.parametrize('name', CONFIGS)
def test_two_iterations_of_training(name, label_files, tmp_path):
    runner = Runner.from_cfg(small_cfg(name, label_files, str(tmp_path)))
    with _serial_map_eval():  # MMRotate's mAP without its spawn pool (seconds per call)
        runner.train()  # ends with a validation on the ground truth of the val split
    assert runner.iter == 2
    assert osp.isfile(tmp_path / 'iter_2.pth')
    assert 0.0 <= runner.message_hub.get_scalar('val/dota/mAP').current() <= 1.0
