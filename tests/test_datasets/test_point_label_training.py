"""Point-label data for training from clicks: the dataset, negatives, the point-aware flip, and
the packing check that refuses points left behind by a geometric transform."""

import json
import os.path as osp

import numpy as np
import pytest
from conftest import NWPU
from mmengine.registry import init_default_scope

from mmpointsam.datasets import PointLabelDataset
from mmpointsam.datasets.transforms import LoadPointLabels, PackSAMInputs, RandomFlipPoints
from mmpointsam.registry import TRANSFORMS


def _instances():
    return [
        dict(points=[[10, 20]], bbox_label=0, ann_id=1),
        dict(points=[[30, 5], [31, 6]], bbox_label=1, ann_id=2),
        dict(points=[[50, 40]], point_labels=[1], bbox_label=0, ann_id=3),
    ]


def _results(**extra):
    return dict(
        img=np.zeros((60, 80, 3), np.uint8),
        img_shape=(60, 80),
        ori_shape=(60, 80),
        img_id=0,
        height=60,
        width=80,
        img_path='a.jpg',
        instances=_instances(),
        **extra,
    )


def test_load_point_labels_without_negatives_keeps_the_file():
    out = LoadPointLabels()(_results())
    assert out['gt_points'].shape == (3, 2, 2)
    np.testing.assert_array_equal(out['gt_point_labels'], [[1, -1], [1, 1], [1, -1]])
    np.testing.assert_array_equal(out['gt_bboxes_labels'], [0, 1, 0])
    np.testing.assert_array_equal(out['instance_ids'], [1, 2, 3])


def test_negatives_come_from_other_instances_and_background():
    out = LoadPointLabels(negatives='other_instances', num_neg_points=2, seed=0)(_results())
    pts, lbs = out['gt_points'], out['gt_point_labels']
    np.testing.assert_array_equal(lbs, [[1, 0, 0, -1], [1, 1, 0, 0], [1, 0, 0, -1]])
    own = [{(10, 20)}, {(30, 5), (31, 6)}, {(50, 40)}]
    for i in range(3):
        negs = {tuple(p) for p in pts[i][lbs[i] == 0].astype(int).tolist()}
        others = set().union(*(own[j] for j in range(3) if j != i))
        assert len(negs) == 2 and negs <= others  # another object's clicks, never its own
    # background clicks only: every instance gets one of them
    bg = np.array([[1, 1], [70, 55]], np.float32)
    out = LoadPointLabels(negatives='background', num_neg_points=1, seed=0)(
        _results(background_points=bg)
    )
    for i in range(3):
        neg = out['gt_points'][i][out['gt_point_labels'][i] == 0]
        assert len(neg) == 1 and any((neg[0] == b).all() for b in bg)
    # seeded negatives depend on the image only
    a = LoadPointLabels(negatives='other_instances', seed=3)(_results())['gt_points']
    b = LoadPointLabels(negatives='other_instances', seed=3)(_results())['gt_points']
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match='unknown negative sources'):
        LoadPointLabels(negatives='masks')


def test_max_instances_subsets_every_instance_key_together():
    out = LoadPointLabels(max_instances=2, seed=0)(_results())
    assert len(out['gt_points']) == len(out['gt_bboxes_labels']) == len(out['instance_ids']) == 2
    firsts = {1: (10, 20), 2: (30, 5), 3: (50, 40)}
    for pts, ann in zip(out['gt_points'], out['instance_ids']):
        assert tuple(pts[0].astype(int)) == firsts[int(ann)]


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_random_flip_points_moves_points_with_pixels(direction):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    results = _results()
    results['img'] = img.copy()
    results = LoadPointLabels()(results)
    before = results['gt_points'].copy()
    out = RandomFlipPoints(prob=1.0, direction=direction)(results)
    valid = out['gt_point_labels'] >= 0
    for (x, y), (fx, fy) in zip(before[valid].astype(int), out['gt_points'][valid].astype(int)):
        assert (out['img'][fy, fx] == img[y, x]).all()
    assert (out['gt_points'][~valid] == before[~valid]).all()  # padding untouched
    packed = PackSAMInputs()(out)  # the frame check passes
    assert packed['data_samples'].flip and packed['data_samples'].flip_direction == direction


@pytest.mark.parametrize(
    'transform',
    [
        dict(type='RandomFlip', prob=1.0),
        dict(type='Resize', scale=(40, 30), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(30, 30)),
        dict(type='Rotate', prob=1.0, level=5),
    ],
)
def test_geometric_transform_that_leaves_points_behind_is_refused(transform):
    init_default_scope('mmpointsam')
    results = LoadPointLabels()(_results())
    results = TRANSFORMS.build(transform)(results)
    with pytest.raises(RuntimeError, match='moved the image but not gt_points'):
        PackSAMInputs()(results)


def test_points_read_after_a_geometric_transform_are_refused():
    """The file's clicks are in the loaded image's frame, wherever LoadPointLabels stands."""
    init_default_scope('mmpointsam')
    results = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(_results())
    with pytest.raises(RuntimeError, match='moved the image but not gt_points'):
        PackSAMInputs()(LoadPointLabels()(results))


def test_point_flip_refuses_points_already_left_behind():
    init_default_scope('mmpointsam')
    results = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(LoadPointLabels()(_results()))
    with pytest.raises(RuntimeError, match='input of RandomFlipPoints'):
        RandomFlipPoints(prob=1.0)(results)


def test_mask_pipelines_still_pack():
    """The papers' protocol samples points after the flip: nothing is left behind."""
    from mmpointsam.registry import DATASETS

    init_default_scope('mmpointsam')
    dataset = DATASETS.build(
        dict(
            type='NWPUVHR10Dataset',
            data_root=NWPU,
            ann_file='annotations/train.json',
            data_prefix=dict(img='images/'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadSAMAnnotations'),
                dict(type='RandomFlip', prob=1.0),
                dict(type='SamplePointPrompts', num_points=1),
                dict(type='PackSAMInputs'),
            ],
        )
    )
    sample = dataset[0]['data_samples']
    assert sample.flip and len(sample.gt_instances.points) == len(sample.gt_instances.masks)


def _write(path, images, anns):
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=[dict(id=1, name='ship')]), f)
    return str(path)


def test_point_label_dataset_names_the_fault(tmp_path):
    img = dict(id=1, file_name='a.jpg', width=80, height=60)
    bad = _write(
        tmp_path / 'bad.json', [img], [dict(id=7, image_id=1, category_id=1, points=[[80, 10]])]
    )
    with pytest.raises(ValueError, match=r'bad\.json.*annotation id 7.*outside the 80x60'):
        PointLabelDataset(ann_file=bad, lazy_init=False)
    masked = _write(
        tmp_path / 'masked.json',
        [img],
        [dict(id=8, image_id=1, category_id=1, points=[[5, 5]], segmentation=[[0, 0, 5, 0, 5, 5]])],
    )
    PointLabelDataset(ann_file=masked, lazy_init=False)  # masks are simply not read
    with pytest.raises(ValueError, match=r'masked\.json.*annotation id 8 has "segmentation"'):
        PointLabelDataset(ann_file=masked, forbidden_keys=('segmentation',), lazy_init=False)
    bg = _write(
        tmp_path / 'bg.json',
        [dict(img, background_points=[[1, 2], [79, 59]])],
        [dict(id=9, image_id=1, category_id=1, points=[[5, 5]])],
    )
    info = PointLabelDataset(ann_file=bg, data_prefix=dict(img='imgs')).get_data_info(0)
    np.testing.assert_array_equal(info['background_points'], [[1, 2], [79, 59]])
    assert info['img_path'] == osp.join('imgs', 'a.jpg')
