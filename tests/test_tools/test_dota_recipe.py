"""The DOTA-v1.0 recipe end to end on real NWPU images written in DOTA format (CPU plumbing):
labelTxt -> seeded clicks -> pseudo rboxes -> MMRotate's patch split -> rotated RetinaNet for two
iterations, validated on split ground truth, and Task1 files for a test server."""

import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import mmrotate
import numpy as np
import pytest
import shapely
from mmengine.config import Config
from mmengine.runner import Runner

from mmpointsam.apis import point2rbox
from mmpointsam.datasets.dota_points import dota_to_point_labels, read_dota_txt
from mmpointsam.evaluation.functional.rbox_quality import _serial_map_eval

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
SPLIT_TOOL = osp.join(
    osp.dirname(mmrotate.__file__), '.mim', 'tools', 'data', 'dota', 'split', 'img_split.py'
)


def write_dota(coco_json: str, out: str) -> tuple:
    """NWPU images as DOTA: ``images/<stem>.png`` and ``labelTxt/<stem>.txt`` (header lines,
    the min-area quadrilateral of each polygon, class, difficult 0)."""
    with open(coco_json) as f:
        coco = json.load(f)
    names = {c['id']: c['name'] for c in coco['categories']}
    os.makedirs(osp.join(out, 'images'))
    os.makedirs(osp.join(out, 'labelTxt'))
    for img in coco['images']:
        stem = osp.splitext(img['file_name'])[0]
        cv2.imwrite(
            osp.join(out, 'images', stem + '.png'),
            cv2.imread(osp.join(DATA, 'images', img['file_name'])),
        )
        lines = ['imagesource:NWPU-VHR-10', 'gsd:null']
        for ann in coco['annotations']:
            if ann['image_id'] == img['id']:
                pts = np.asarray(ann['segmentation'][0], np.float32).reshape(-1, 2)
                quad = cv2.boxPoints(cv2.minAreaRect(pts)).reshape(-1)
                lines.append(' '.join(f'{v:.1f}' for v in quad) + f' {names[ann["category_id"]]} 0')
        with open(osp.join(out, 'labelTxt', stem + '.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return tuple(c['name'] for c in sorted(coco['categories'], key=lambda c: c['id']))


def split(img_dir: str, ann_dir: str, save_dir: str) -> None:
    """MMRotate's DOTA split tool, as a user runs it (512 px patches, so NWPU images split)."""
    subprocess.run(
        [
            sys.executable,
            SPLIT_TOOL,
            '--img-dirs',
            img_dir,
            '--ann-dirs',
            ann_dir,
            '--sizes',
            '512',
            '--gaps',
            '100',
            '--rates',
            '1.0',
            '--nproc',
            '1',
            '--save-dir',
            save_dir,
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture(autouse=True)
def restore_default_scope():
    """An MMRotate Runner makes 'mmrotate' the current default scope for the whole process;
    drop the scopes made here so later tests build from their own registries."""
    from mmengine.registry import DefaultScope

    before = set(DefaultScope._instance_dict)
    yield
    for name in set(DefaultScope._instance_dict) - before:
        DefaultScope._instance_dict.pop(name)


@pytest.fixture(scope='module')
def recipe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('dota')
    classes = write_dota(osp.join(DATA, 'annotations', 'train.json'), str(tmp / 'train'))
    write_dota(osp.join(DATA, 'annotations', 'val.json'), str(tmp / 'val'))
    points = dota_to_point_labels(
        str(tmp / 'train' / 'labelTxt'),
        str(tmp / 'train' / 'images'),
        str(tmp / 'points.json'),
        classes=classes,
        seed=0,
    )
    sam_cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'sam_direct/sam-direct_mobilesam-vit-t_nwpu.py')
    )
    sam_cfg.model.sam.update(arch='tiny', img_size=256)
    sam_cfg.model.data_preprocessor.img_size = 256
    pseudo = point2rbox(
        sam_cfg,
        points['json'],
        str(tmp / 'train' / 'images'),
        str(tmp / 'pseudo'),
        sam_checkpoint='none',
        progress=False,
    )
    split(str(tmp / 'train' / 'images'), pseudo['dota_dir'], str(tmp / 'split' / 'train_pseudo'))
    split(str(tmp / 'val' / 'images'), str(tmp / 'val' / 'labelTxt'), str(tmp / 'split' / 'val'))
    return dict(tmp=tmp, classes=classes, points=points, pseudo=pseudo)


def test_clicks_are_seeded_and_inside_their_polygons(recipe, tmp_path):
    tmp, classes = recipe['tmp'], recipe['classes']
    with open(recipe['points']['json']) as f:
        data = json.load(f)
    again = dota_to_point_labels(
        str(tmp / 'train' / 'labelTxt'),
        str(tmp / 'train' / 'images'),
        str(tmp_path / 'again.json'),
        classes=classes,
        seed=0,
    )
    with open(again['json']) as f:
        assert json.load(f)['annotations'] == data['annotations']
    assert len(data['annotations']) == 28 and len(data['images']) == 4
    images = {i['id']: i for i in data['images']}
    polygons = {}
    for img in data['images']:
        stem = osp.splitext(img['file_name'])[0]
        polygons[img['id']] = read_dota_txt(str(tmp / 'train' / 'labelTxt' / f'{stem}.txt'))
    k = {i: 0 for i in images}
    for ann in data['annotations']:  # in file order per image
        obj = polygons[ann['image_id']][k[ann['image_id']]]
        k[ann['image_id']] += 1
        x, y = ann['points'][0]
        assert shapely.Polygon(obj['polygon']).contains(shapely.Point(x + 0.5, y + 0.5))
        assert classes[ann['category_id'] - 1] == obj['name']


def _dota_cfg(name: str, recipe: dict, work_dir: str) -> Config:
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'rotated_det', name))
    cfg.work_dir = work_dir
    cfg.model.backbone.init_cfg = None  # no ImageNet download in tests
    cfg.model.bbox_head.num_classes = len(recipe['classes'])
    for loader in ('train', 'val', 'test'):
        loader = cfg[f'{loader}_dataloader']
        loader.num_workers, loader.persistent_workers = 0, False
        loader.dataset.data_root = str(recipe['tmp'] / 'split') + '/'
        loader.dataset.metainfo = dict(classes=recipe['classes'])
        for step in loader.dataset.pipeline:
            if step['type'] == 'mmdet.Resize':
                step['scale'] = (128, 128)
    # the val patches stand in for DOTA test (no labels read)
    cfg.test_dataloader.dataset.data_prefix = dict(img_path='val/images/')
    cfg.test_evaluator.outfile_prefix = osp.join(work_dir, 'Task1')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def test_retinanet_trains_on_split_pseudo_labels_and_formats_task1(recipe, tmp_path):
    assert glob.glob(str(recipe['tmp'] / 'split' / 'train_pseudo' / 'annfiles' / '*__*.txt'))
    cfg = _dota_cfg('rotated-retinanet-rbox-le90_r50_fpn_1x_dota-pseudo.py', recipe, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    with _serial_map_eval():
        runner.train()  # ends with DOTAMetric on the split val ground truth
        assert runner.iter == 2
        assert 0.0 <= runner.message_hub.get_scalar('val/dota/mAP').current() <= 1.0
        runner.test()  # patches merged per scene, one Task1 file per class
    task1 = glob.glob(str(tmp_path / 'Task1' / 'Task1_*.txt'))
    assert len(task1) == len(recipe['classes'])


def test_fcos_config_builds():
    from mmrotate.registry import MODELS
    from mmrotate.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'rotated_det', 'rotated-fcos-le90_r50_fpn_1x_dota-pseudo.py')
    )
    assert cfg.train_dataloader.dataset.ann_file == 'train_pseudo/annfiles/'
    assert cfg.test_evaluator.format_only and cfg.test_evaluator.merge_patches
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.bbox_head.num_classes == 15
