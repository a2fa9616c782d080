"""A scene and a point layer -> chips in the point-label dataset format that the clicks
configs train on; chip predictions map back to the scene and the map."""

import glob
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from geo_fixtures import build_scenes, tiny_inferencer

from mmpointsam.geo import ChipIndex, mask_to_multipolygon, scene_to_point_labels
from mmpointsam.geo.geometry import apply_affine


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    return build_scenes(str(tmp_path_factory.mktemp('geo_scene')))


@pytest.fixture(scope='module')
def tiny():
    return tiny_inferencer()


def _tool(*parts):
    path = osp.join(REPO, *parts)
    spec = importlib.util.spec_from_file_location(osp.splitext(parts[-1])[0] + '_chips', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def chips(scene, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('chips'))
    tool = _tool('tools', 'dataset_converters', 'geo_to_point_labels.py')
    summary = tool.main(
        [
            scene['rgb8'],
            scene['gpkg'],
            out,
            '--class-field',
            'class',
            '--chip-size',
            '384',
            '--margin',
            '32',
            '--no-progress',
        ]
    )
    return out, summary


def test_chips_hold_every_click_in_the_point_label_format(scene, chips):
    out, summary = chips
    with open(osp.join(out, 'clicks', 'train.json')) as f:
        labels = json.load(f)
    index = ChipIndex(osp.join(out, 'chips.json'))
    assert summary['chips'] == len(labels['images']) == len(index.data['chips']) > 1
    n = len(scene['pixels'])
    seen = set()
    by_image = {img['id']: img for img in labels['images']}
    for ann in labels['annotations']:
        img = by_image[ann['image_id']]
        chip = index.chip(img['file_name'])
        x0, y0, x1, y1 = chip['window']
        assert img['width'] == x1 - x0 <= 384 and img['height'] == y1 - y0 <= 384
        # chip points + the chip's offset are the scene pixels of that click
        scene_xy = index.points_to_scene(img['file_name'], ann['points'])
        np.testing.assert_array_equal(scene_xy[0], scene['pixels'][ann['click_id'] - 1])
        assert (
            labels['categories'][ann['category_id'] - 1]['name']
            == scene['classes'][ann['click_id'] - 1]
        )
        seen.add(ann['click_id'])
    assert seen == set(range(1, n + 1))  # every click is in some chip
    for chip in index.data['chips']:
        x0, y0, x1, y1 = chip['window']
        png = cv2.imread(osp.join(out, 'images', chip['file_name']))
        np.testing.assert_array_equal(png, scene['img'][y0:y1, x0:x1])
        # the chip's geotransform puts its pixel (u, v) where the scene has (u + x0, v + y0)
        t = index.transform(chip['file_name'])
        np.testing.assert_allclose(
            apply_affine(t, 3, 7), apply_affine(scene['transform'], 3 + x0, 7 + y0)
        )
    assert index.data['raster']['crs'] == 'EPSG:32650'


def test_chip_predictions_map_back_to_the_scene(scene, chips, tiny):
    out, _ = chips
    index = ChipIndex(osp.join(out, 'chips.json'))
    with open(osp.join(out, 'clicks', 'train.json')) as f:
        labels = json.load(f)
    img = labels['images'][0]
    anns = [a for a in labels['annotations'] if a['image_id'] == img['id']]
    points = np.array([a['points'][0] for a in anns])
    pred = tiny(osp.join(out, 'images', img['file_name']), points)
    moved = index.prediction_to_scene(img['file_name'], pred)
    x0, y0 = index.offset(img['file_name'])
    assert moved.image_shape == (1100, 1400)
    np.testing.assert_array_equal(
        moved.points[:, 0], scene['pixels'][[a['click_id'] - 1 for a in anns]]
    )
    full_chip, full_scene = pred.full_masks(), moved.full_masks()
    h, w = full_chip.shape[1:]
    np.testing.assert_array_equal(full_scene[:, y0 : y0 + h, x0 : x0 + w], full_chip)
    assert full_scene.sum() == full_chip.sum()
    np.testing.assert_allclose(
        index.rboxes_to_scene(img['file_name'], pred.rboxes)[pred.valid], moved.rboxes[pred.valid]
    )
    # map polygons: through the scene's transform after moving == through the chip's own
    for i in np.flatnonzero(pred.valid):
        a = mask_to_multipolygon(moved.masks[i], moved.offsets[i], scene['transform'])
        b = mask_to_multipolygon(pred.masks[i], pred.offsets[i], index.transform(img['file_name']))
        assert a.symmetric_difference(b).area < 1e-6


def test_grid_mode_keeps_the_chips_with_clicks(scene, tmp_path):
    summary = scene_to_point_labels(
        scene['rgb8'],
        scene['gpkg'],
        str(tmp_path),
        chip_size=512,
        mode='grid',
        overlap=128,
        class_field='class',
        progress=False,
    )
    from mmpointsam.apis.scene_patches import scene_windows

    windows = scene_windows(1400, 1100, 512, 128)
    px = scene['pixels']
    want = sum(
        bool(((px[:, 0] >= x0) & (px[:, 0] < x1) & (px[:, 1] >= y0) & (px[:, 1] < y1)).any())
        for x0, y0, x1, y1 in windows
    )
    assert summary['chips'] == want


def _clicks_config():
    """The shipped clicks self-training config for NWPU (wherever the config layout puts it)."""
    found = [
        p
        for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if 'selftrain' in osp.basename(p) and 'nwpu' in p and 'clicks' in p and '_base_' not in p
    ]
    assert found, 'no clicks self-training config for NWPU under configs/'
    return sorted(found)[0]


def test_a_shipped_clicks_config_trains_on_the_chips(chips, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    out, _ = chips
    cfg = Config.fromfile(_clicks_config())
    assert cfg.train_dataloader.dataset.type == 'PointLabelDataset'
    cfg.merge_from_dict(
        {
            'model.sam.arch': 'tiny',
            'model.sam.img_size': 256,
            'model.sam.init_cfg': None,
            'model.data_preprocessor.img_size': 256,
            'model.sam.lora.first_block': 1,
            'train_dataloader.dataset.data_root': out + '/',
            'train_dataloader.dataset.indices': 2,  # 2 chips: 2 iterations
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'train_cfg.max_epochs': 1,
            'default_hooks.logger.interval': 1,
        }
    )
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == 2
    runner.train()
    ckpt = torch.load(osp.join(cfg.work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 2
