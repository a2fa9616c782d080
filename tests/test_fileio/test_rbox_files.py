"""Rotated boxes through both label formats, read back by MMRotate's own dataset classes."""

import json
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmpointsam.fileio import (
    RBoxLabelWriter,
    atomic_open,
    load_dota_txt,
    load_rbox_coco,
    rbox_to_coco_ann,
)
from mmpointsam.structures import norm_le90, rbox_iou

DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'nwpu_vhr10')
CATEGORIES = [dict(id=1, name='airplane'), dict(id=2, name='ship'), dict(id=5, name='tennis_court')]
CLASSES = tuple(c['name'] for c in CATEGORIES)
# one image with boxes at assorted angles (le90) and one without objects
BOXES = norm_le90(
    np.array(
        [
            [120.5, 80.25, 60, 20, 0.0],
            [300, 200, 80, 30, 0.5],
            [400, 300, 50, 10, -1.2],
            [200, 350, 40, 39, math.pi / 4],
            [600, 100, 70, 25, -math.pi / 2],
        ]
    )
)
CAT_IDS = [1, 2, 5, 1, 2]


@pytest.fixture(scope='module')
def mmrotate_scope():
    from mmrotate.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmrotate'):
        yield


def write_labels(out_dir, file_names=('018.jpg', '036.jpg')):
    images = [dict(id=i + 1, file_name=f, width=800, height=600) for i, f in enumerate(file_names)]
    writer = RBoxLabelWriter(out_dir, images, CATEGORIES, settings=dict(test=1))
    anns = [
        rbox_to_coco_ann(b, 10 + k, 1, c, score=0.5) for k, (b, c) in enumerate(zip(BOXES, CAT_IDS))
    ]
    writer.write_image(images[0], anns)
    writer.write_image(images[1], [])
    return writer.finalize()


def assert_same_boxes(read, expected):
    read = norm_le90(np.asarray(read, dtype=np.float64))
    assert np.allclose(read[:, :4], expected[:, :4], atol=2e-3)
    d = (read[:, 4] - expected[:, 4]) % math.pi
    assert np.all(np.minimum(d, math.pi - d) < 1e-4)  # le90 angles, up to the +-pi/2 seam
    assert np.all(rbox_iou(read, expected, aligned=True) > 0.999)  # 3-decimal files


def test_our_readers_round_trip(tmp_path):
    result = write_labels(str(tmp_path))
    coco = load_rbox_coco(result['json'])
    assert_same_boxes(coco['boxes'][1]['rboxes'], BOXES)
    assert coco['boxes'][1]['category_ids'].tolist() == CAT_IDS
    assert coco['boxes'][1]['ids'].tolist() == [10, 11, 12, 13, 14]
    assert len(coco['boxes'][2]['rboxes']) == 0
    corners, names, diffs = load_dota_txt(osp.join(result['dota_dir'], '018.txt'))
    assert names == ['airplane', 'ship', 'tennis_court', 'airplane', 'ship']
    assert diffs.tolist() == [0] * 5 and corners.shape == (5, 4, 2)
    # an image without objects gets an empty file, no header anywhere
    assert os.path.getsize(osp.join(result['dota_dir'], '036.txt')) == 0
    with open(osp.join(result['dota_dir'], '018.txt')) as f:
        assert all(len(line.split()) == 10 for line in f)
    with open(result['json']) as f:
        ann = json.load(f)['annotations'][1]
    assert len(ann['segmentation']) == 1 and len(ann['segmentation'][0]) == 8
    assert ann['score'] == 0.5 and ann['area'] == pytest.approx(80 * 30)


def test_coco_json_read_by_mmdet_cocodataset_and_convertmask2boxtype(tmp_path, mmrotate_scope):
    from mmrotate.registry import DATASETS

    result = write_labels(str(tmp_path))
    dataset = DATASETS.build(
        dict(
            type='mmdet.CocoDataset',
            ann_file=result['json'],
            metainfo=dict(classes=CLASSES),
            data_prefix=dict(img=DATA + '/images/'),
            test_mode=True,
            pipeline=[
                dict(type='mmdet.LoadImageFromFile'),
                dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
                dict(type='ConvertMask2BoxType', box_type='rbox'),
            ],
        )
    )
    assert len(dataset) == 2
    first = dataset[0]
    assert first['gt_bboxes_labels'].tolist() == [0, 1, 2, 0, 1]
    assert_same_boxes(first['gt_bboxes'].tensor.numpy(), BOXES)
    assert len(dataset[1]['gt_bboxes']) == 0


def test_dota_txt_read_by_mmrotate_dotadataset(tmp_path, mmrotate_scope):
    from mmrotate.registry import DATASETS

    result = write_labels(str(tmp_path / 'labels'))
    img_dir = tmp_path / 'png'  # rc1's DOTADataset looks for <stem>.png
    img_dir.mkdir()
    for name in ('018', '036'):
        cv2.imwrite(str(img_dir / f'{name}.png'), cv2.imread(f'{DATA}/images/{name}.jpg'))
    dataset = DATASETS.build(
        dict(
            type='DOTADataset',
            ann_file=result['dota_dir'] + '/',
            metainfo=dict(classes=CLASSES),
            data_prefix=dict(img_path=str(img_dir) + '/'),
            test_mode=True,
            pipeline=[
                dict(type='mmdet.LoadImageFromFile'),
                dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
                dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
            ],
        )
    )
    samples = {osp.basename(dataset[i]['img_path']): dataset[i] for i in range(len(dataset))}
    assert set(samples) == {'018.png', '036.png'}
    assert samples['018.png']['gt_bboxes_labels'].tolist() == [0, 1, 2, 0, 1]
    assert_same_boxes(samples['018.png']['gt_bboxes'].tensor.numpy(), BOXES)
    assert len(samples['036.png']['gt_bboxes']) == 0


def test_writer_refuses_other_settings_and_colliding_names(tmp_path):
    write_labels(str(tmp_path))
    with pytest.raises(ValueError, match='other settings'):
        RBoxLabelWriter(str(tmp_path), [], CATEGORIES, settings=dict(test=2))
    with pytest.raises(ValueError, match='collide'):
        RBoxLabelWriter(
            str(tmp_path / 'b'),
            [dict(id=1, file_name='a/x.jpg'), dict(id=2, file_name='b/x.png')],
            CATEGORIES,
            {},
        )
    with pytest.raises(ValueError, match='whitespace'):
        RBoxLabelWriter(str(tmp_path / 'c'), [], [dict(id=1, name='small vehicle')], {})


def test_atomic_open_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / 'a.txt'
    path.write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_open(str(path)) as f:
            f.write('new, half')
            raise RuntimeError('interrupted')
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['a.txt']  # no temporary left behind
