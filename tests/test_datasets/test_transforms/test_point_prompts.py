import numpy as np
import pytest
from mmdet.structures.mask import BitmapMasks

from mmpointsam.datasets.transforms import SamplePointPrompts


def _results(num=3, h=60, w=70):
    masks = np.zeros((num, h, w), dtype=np.uint8)
    for i in range(num):
        masks[i, 5 + 10 * i : 12 + 10 * i, 5 + 12 * i : 15 + 12 * i] = 1
    return dict(
        img_path=f'img_{num}.jpg',
        gt_masks=BitmapMasks(masks, h, w),
        gt_bboxes_labels=np.arange(num),
        gt_bboxes=np.zeros((num, 4), dtype=np.float32),
    )


@pytest.mark.parametrize('num_points', [1, 2, 3])
def test_positives_inside_negatives_outside(num_points):
    res = SamplePointPrompts(num_points=num_points)(_results())
    masks = res['gt_masks'].masks
    points, labels = res['gt_points'], res['gt_point_labels']
    assert points.shape == (3, 2 * num_points, 2) and labels.shape == (3, 2 * num_points)
    for i in range(3):
        for (x, y), lab in zip(points[i], labels[i]):
            assert x == int(x) and y == int(y)
            assert masks[i, int(y), int(x)] == lab
    assert (labels[:, :num_points] == 1).all() and (labels[:, num_points:] == 0).all()


def test_seeded_prompts_repeat_per_image():
    t = SamplePointPrompts(num_points=2, seed=0)
    a = t(_results())['gt_points']
    b = t(_results())['gt_points']
    assert np.array_equal(a, b)
    other = _results()
    other['img_path'] = 'another.jpg'
    assert not np.array_equal(a, t(other)['gt_points'])


def test_seeded_prompts_do_not_depend_on_where_the_dataset_lies():
    # the same image in a checkout and on a cluster's scratch disk gets the same clicks, so
    # evaluations of one dataset copied elsewhere stay comparable
    t = SamplePointPrompts(num_points=2, seed=0)
    here, there = _results(), _results()
    here['img_path'] = '/home/me/data/nwpu/images/001.jpg'
    there['img_path'] = '/scratch/job42/nwpu/images/001.jpg'
    assert np.array_equal(t(here)['gt_points'], t(there)['gt_points'])


def test_max_instances_subsets_every_instance_key():
    res = SamplePointPrompts(num_points=1, max_instances=2, seed=1)(_results(num=5))
    assert len(res['gt_masks']) == 2 and len(res['gt_bboxes_labels']) == 2
    assert res['gt_points'].shape[0] == 2
    for i, lab in enumerate(res['gt_bboxes_labels']):
        x, y = res['gt_points'][i, 0].astype(int)
        assert res['gt_masks'].masks[i, y, x] == 1
        # the kept mask is the one of that label (labels were 0..4 in mask order)
        assert np.array_equal(res['gt_masks'].masks[i], _results(num=5)['gt_masks'].masks[lab])


def test_empty_mask_is_an_error_naming_the_image():
    res = _results()
    res['gt_masks'].masks[1] = 0
    with pytest.raises(ValueError, match=r'img_3\.jpg.*instance 1.*empty mask'):
        SamplePointPrompts()(res)
