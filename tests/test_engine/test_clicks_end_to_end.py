"""A user with only clicks, end to end (the commands of docs/en/user_guides/clicks_only.md, run in
process with a tiny random SAM on real NWPU VHR-10 images): CSV of clicks -> point-label json ->
prototypes -> 2 iterations of PointSAM -> predictions with the API and the demo script -> masks
and DOTA rboxes. No mask is read anywhere: LoadSAMAnnotations is made to fail."""

import importlib.util
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import NWPU, REPO, config_of

CONFIG = osp.join(REPO, 'configs', config_of('pointsam', 'nwpu', variant='clicks'))
WORK_DIR = 'work_dirs/' + osp.basename(CONFIG)[:-3]
# test-only: the tiny SAM, random weights, one epoch over the two clicked images (2 iterations)
TINY = [
    'model.sam.arch=tiny',
    'model.sam.img_size=256',
    'model.data_preprocessor.img_size=256',
    'model.sam.lora.first_block=1',
    'model.self_training.prototype_loss.dim=32',
    'model.self_training.prototype_loss.bank_size=8',
    'model.self_training.prototype_loss.cluster_interval=1',
]
TRAIN_ONLY = [
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_cfg.max_epochs=1',
    'default_hooks.logger.interval=1',
]


@pytest.mark.parametrize('row', ['selftrain', 'pointsam', 'resam'])
@pytest.mark.parametrize('dataset', ['nwpu', 'whu', 'hrsid'])
def test_clicks_configs_are_the_papers_rows_on_clicks(row, dataset):
    from mmengine.config import Config

    clicks = Config.fromfile(osp.join(REPO, 'configs', config_of(row, dataset, variant='clicks')))
    papers = Config.fromfile(osp.join(REPO, 'configs', config_of(row, dataset)))
    train = clicks.train_dataloader.dataset
    assert train.type == 'PointLabelDataset' and train.ann_file == 'clicks/train.json'
    assert train.data_root == papers.train_dataloader.dataset.data_root
    assert train.data_prefix == papers.train_dataloader.dataset.data_prefix
    steps = [t['type'] for t in train.pipeline]
    assert 'LoadSAMAnnotations' not in steps and 'SamplePointPrompts' not in steps
    assert 'RandomFlipPoints' in steps and 'RandomFlip' not in steps
    assert clicks.val_dataloader is None and clicks.default_hooks.checkpoint.save_best is None
    st_clicks, st_papers = (
        clicks.model.self_training.to_dict(),
        papers.model.self_training.to_dict(),
    )
    if row == 'pointsam':  # prototypes made from the clicks, in a file of their own
        assert 'clicks' in st_clicks['prototype_loss'].pop('target_prototypes')
        st_papers['prototype_loss'].pop('target_prototypes')
    assert st_clicks == st_papers and clicks.train_cfg == papers.train_cfg
    assert clicks.optim_wrapper == papers.optim_wrapper


def _tool(*parts):
    path = osp.join(REPO, *parts)
    spec = importlib.util.spec_from_file_location(osp.splitext(parts[-1])[0] + '_e2e', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(monkeypatch, tool, argv):
    monkeypatch.setattr(sys, 'argv', [tool.__file__] + argv)
    return tool.main()


def test_clicks_only_end_to_end(tmp_path, monkeypatch):
    from mmpointsam.datasets.transforms import LoadSAMAnnotations

    def no_masks(self, results):
        raise AssertionError('a mask was loaded in the clicks-only path')

    monkeypatch.setattr(LoadSAMAnnotations, 'transform', no_masks)
    monkeypatch.chdir(tmp_path)
    os.makedirs('data/nwpu_vhr10')
    os.symlink(osp.join(NWPU, 'images'), 'data/nwpu_vhr10/images')
    # the user's clicks: one per object near its box centre, two real NWPU images, no masks
    with open(osp.join(NWPU, 'annotations', 'train.json')) as f:
        gt = json.load(f)
    names = {c['id']: c['name'] for c in gt['categories']}
    files = {i['id']: i['file_name'] for i in gt['images']}
    rows = ['image,x,y,class']
    for ann in gt['annotations']:
        if files[ann['image_id']] in ('414.jpg', '140.jpg'):
            x, y, w, h = ann['bbox']
            rows.append(
                f'{files[ann["image_id"]]},{int(x + w / 2)},{int(y + h / 2)},'
                f'{names[ann["category_id"]]}'
            )
    with open('clicks.csv', 'w') as f:
        f.write('\n'.join(rows) + '\n')
    num_clicks = len(rows) - 1

    # 1. clicks -> point-label json
    _run(
        monkeypatch,
        _tool('tools', 'dataset_converters', 'clicks_to_point_labels.py'),
        ['clicks.csv', 'data/nwpu_vhr10/clicks/train.json', '--img-dir', 'data/nwpu_vhr10/images'],
    )
    with open('data/nwpu_vhr10/clicks/train.json') as f:
        points = json.load(f)
    assert len(points['annotations']) == num_clicks
    assert not any(k in a for a in points['annotations'] for k in ('segmentation', 'bbox'))

    # 2. PBR's target prototypes from the clicks
    _run(
        monkeypatch,
        _tool('tools', 'compute_prototypes.py'),
        [
            CONFIG,
            '--sam-checkpoint',
            'none',
            '--out',
            'data/prototypes/nwpu_vhr10_clicks_vit_b.pth',
            '--device',
            'cpu',
            '--cfg-options',
            *TINY,
        ],
    )
    protos = torch.load('data/prototypes/nwpu_vhr10_clicks_vit_b.pth')
    assert protos['num_images'] == 2 and protos['num_features'] == num_clicks
    assert protos['prototypes'].shape[1] == 32

    # 3. PointSAM from the clicks: fixed schedule, last weights, no validation
    _run(
        monkeypatch,
        _tool('tools', 'train.py'),
        [CONFIG, '--sam-checkpoint', 'none', '--cfg-options', *TINY, *TRAIN_ONLY],
    )
    ckpt_path = f'{WORK_DIR}/epoch_1.pth'
    ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 2 and ckpt['meta']['epoch'] == 1
    with open(f'{WORK_DIR}/last_checkpoint') as f:
        assert f.read().strip().endswith('epoch_1.pth')
    assert not any(n.startswith('best_') for n in os.listdir(WORK_DIR))

    # 4a. predict with the API
    from mmengine.config import DictAction

    from mmpointsam.apis import PointSAMInferencer

    options = {k: DictAction._parse_iterable(v) for k, v in (o.split('=', 1) for o in TINY)}
    inferencer = PointSAMInferencer(
        CONFIG, ckpt_path, device='cpu', cfg_options=options, click_negatives=1
    )
    lora = [k for k in ckpt['state_dict'] if 'lora' in k][0]
    torch.testing.assert_close(inferencer.model.state_dict()[lora], ckpt['state_dict'][lora])
    img = 'data/nwpu_vhr10/images/414.jpg'
    result = inferencer(img, [[100, 200], [300, 50]])
    assert len(result) == 2 and result.rboxes.shape == (2, 5)
    np.testing.assert_array_equal(result.point_labels, [[1, 0], [1, 0]])  # as trained
    # the checkpoint alone (it stores its config) gives the same predictions
    alone = PointSAMInferencer(checkpoint=ckpt_path, device='cpu', click_negatives=1)(
        img, [[100, 200], [300, 50]]
    )
    np.testing.assert_array_equal(alone.full_masks(), result.full_masks())

    # 4b. the demo script: picture, masks (PNG, RLE json), DOTA rboxes
    paths = _run(
        monkeypatch,
        _tool('demo', 'image_demo.py'),
        [
            img,
            '--points',
            '100,200;300,50',
            '--click-negatives',
            '1',
            '--config',
            CONFIG,
            '--checkpoint',
            ckpt_path,
            '--out',
            'outputs',
            '--device',
            'cpu',
            '--cfg-options',
            *TINY,
        ],
    )
    label = cv2.imread(paths['png'], cv2.IMREAD_UNCHANGED)
    assert label.shape == (529, 618) and label.dtype == np.uint16
    np.testing.assert_array_equal(label, result.label_map())
    with open(paths['json']) as f:
        written = json.load(f)
    assert len(written['annotations']) == 2
    for ann, box, ok in zip(written['annotations'], result.rboxes, result.valid):
        assert ann['empty'] == (not ok)
        if ok:
            np.testing.assert_allclose(ann['rbox_le90'], box)
    with open(paths['dota']) as f:
        lines = f.read().splitlines()
    assert len(lines) == int(result.valid.sum())
    assert all(len(line.split()) == 10 and line.split()[8] == 'object' for line in lines)
    assert cv2.imread(paths['vis']).shape[:2] == (529, 618)


if __name__ == '__main__':
    pytest.main([__file__, '-q'])
