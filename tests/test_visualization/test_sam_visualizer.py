"""SAMVisualizer: sizes, mask colour blend, outlines, rotated-box corners, prompts, speed."""

import time

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmpointsam.registry import VISUALIZERS
from mmpointsam.visualization import (
    SAMVisualizer,
    instance_colors,
    instance_label_map,
    overlay_instance_masks,
    rbox_to_corners,
)

GREY = 100


@pytest.fixture
def vis(request):
    # Visualizer is a named singleton: one name per test
    return SAMVisualizer(name=f'vis_{request.node.name}', alpha=0.5, outline_width=2)


def _blend(color, alpha=0.5, base=GREY):
    return np.floor(base * (1 - alpha) + np.asarray(color, float) * alpha + 0.5)


def test_registered_in_mmpointsam_scope():
    vis = VISUALIZERS.build(dict(type='SAMVisualizer', name='vis_registry'))
    assert isinstance(vis, SAMVisualizer)


def test_instance_colors_distinct_and_stable():
    colors = instance_colors(300)
    assert colors.shape == (300, 3) and colors.dtype == np.uint8
    assert np.array_equal(colors[:5], instance_colors(5))
    assert len({tuple(c) for c in colors[:20]}) == 20


@pytest.mark.parametrize('shape', [(10, 12), (37, 53), (300, 500)])
def test_drawn_image_has_input_size(vis, shape):
    h, w = shape
    image = np.full((h, w, 3), GREY, np.uint8)
    masks = np.zeros((1, h, w), bool)
    masks[0, h // 4 : h // 2, w // 4 : w // 2] = True
    inst = InstanceData(
        masks=torch.from_numpy(masks),
        labels=torch.tensor([0]),
        scores=torch.tensor([0.9]),
        points=torch.tensor([[[w / 3, h / 3]]]),
        point_labels=torch.tensor([[1]]),
    )
    out = vis.draw_instances(image, inst, classes=['plane'], title='t')
    assert out.shape == (h, w, 3) and out.dtype == np.uint8


def test_overlay_blends_inside_and_not_outside():
    image = np.full((60, 80, 3), GREY, np.uint8)
    masks = np.zeros((2, 60, 80), bool)
    masks[0, 10:40, 10:40] = True
    masks[1, 20:50, 50:75] = True
    colors = instance_colors(2)
    out = overlay_instance_masks(image, masks, colors, alpha=0.5, outline_width=1)
    assert np.array_equal(out[25, 25], _blend(colors[0]))
    assert np.array_equal(out[35, 60], _blend(colors[1]))
    assert np.array_equal(out[5, 5], image[5, 5])  # outside every mask
    assert np.array_equal(out[10, 20], colors[0])  # outline: opaque instance colour
    assert np.array_equal(out[9, 20], image[9, 20])  # the outline stays inside the mask


def test_small_instance_drawn_over_large_one():
    masks = np.zeros((2, 40, 40), bool)
    masks[1, 5:35, 5:35] = True  # large, listed last
    masks[0, 15:20, 15:20] = True  # small, inside it
    label = instance_label_map(masks)
    assert label[17, 17] == 0 and label[8, 8] == 1 and label[0, 0] == -1


def test_visualizer_mask_pixels_carry_instance_colour(vis):
    h, w = 120, 160
    image = np.full((h, w, 3), GREY, np.uint8)
    masks = np.zeros((2, h, w), bool)
    masks[0, 20:80, 20:80] = True
    masks[1, 40:100, 100:150] = True
    gt = InstanceData(masks=BitmapMasks(masks.astype(np.uint8), h, w), labels=torch.tensor([0, 1]))
    out = vis.draw_instances(image, gt, classes=['a', 'b'])
    colors = instance_colors(2)
    # the matplotlib canvas may move the picture by a pixel: test well inside / outside
    assert np.abs(out[70, 50].astype(int) - _blend(colors[0])).max() <= 2
    assert np.abs(out[90, 125].astype(int) - _blend(colors[1])).max() <= 2
    assert np.abs(out[110, 10].astype(int) - GREY).max() <= 2
    assert np.abs(out[70, 50].astype(int) - GREY).max() > 10


def test_rbox_corners_le90_and_quadrilateral():
    c = rbox_to_corners(torch.tensor([[50.0, 40.0, 20.0, 10.0, 0.0]]))[0]
    assert np.allclose(sorted(map(tuple, c)), [(40, 35), (40, 45), (60, 35), (60, 45)])
    c = rbox_to_corners(np.array([[50.0, 40.0, 20.0, 10.0, np.pi / 2]]))[0]
    assert np.allclose(sorted(map(tuple, c)), [(45, 30), (45, 50), (55, 30), (55, 50)])
    quad = np.array([[1, 2, 3, 4, 5, 6, 7, 8]], float)
    assert np.array_equal(rbox_to_corners(quad), quad.reshape(1, 4, 2))
    with pytest.raises(ValueError, match=r'\(N, 5\).*\(N, 8\)'):
        rbox_to_corners(np.zeros((2, 4)))


def test_rotated_box_corners_land_where_expected(vis):
    h, w = 200, 200
    image = np.full((h, w, 3), GREY, np.uint8)
    # a 80 x 40 box turned by 45 degrees about (100, 100)
    rbox = torch.tensor([[100.0, 100.0, 80.0, 40.0, np.pi / 4]])
    inst = InstanceData(rboxes=rbox, labels=torch.tensor([0]))
    vis.draw_labels = False
    out = vis.draw_instances(image, inst, colors=np.array([[255, 0, 0]], np.uint8))
    corners = rbox_to_corners(rbox)[0]

    def reddish(x, y):
        patch = out[int(round(y)) - 2 : int(round(y)) + 3, int(round(x)) - 2 : int(round(x)) + 3]
        return ((patch[..., 0].astype(int) - patch[..., 1]) > 80).any()

    for x, y in corners:
        assert reddish(x, y), (x, y)
    # the centre and the image corners are untouched
    assert not reddish(100, 100) and not reddish(10, 10) and not reddish(190, 10)
    # midpoints of the sides are on the line too
    for a, b in zip(corners, np.roll(corners, 1, axis=0)):
        assert reddish(*((a + b) / 2))


def test_prompt_points_distinct_markers(vis):
    image = np.full((100, 200, 3), GREY, np.uint8)
    inst = InstanceData(
        points=torch.tensor([[[50.0, 50.0], [150.0, 50.0], [0.0, 0.0]]]),
        point_labels=torch.tensor([[1, 0, -1]]),
    )
    out = vis.draw_instances(image, inst).astype(int)
    pos, neg = out[50, 50], out[50, 150]
    assert pos[1] > 200 and pos[0] < 100  # green star
    assert neg[0] > 200 and neg[1] < 100  # red cross
    assert np.abs(out[3, 3] - GREY).max() <= 2  # padding point (-1) not drawn


def test_datasample_gt_beside_pred(vis):
    h, w = 64, 96
    image = np.full((h, w, 3), GREY, np.uint8)
    masks = np.zeros((2, h, w), bool)
    masks[0, 5:30, 5:30] = True
    masks[1, 30:60, 50:90] = True
    sample = DetDataSample(metainfo=dict(img_path='x.jpg', ori_shape=(h, w)))
    pts = torch.tensor([[[15.0, 15.0], [70.0, 10.0]], [[70.0, 45.0], [10.0, 50.0]]])
    labels = torch.tensor([[1, 0], [1, 0]])
    sample.gt_instances = InstanceData(
        masks=BitmapMasks(masks.astype(np.uint8), h, w),
        labels=torch.tensor([0, 1]),
        points=pts,
        point_labels=labels,
    )
    sample.pred_instances = InstanceData(
        masks=torch.from_numpy(masks),
        labels=torch.tensor([0, 1]),
        scores=torch.tensor([0.9, -0.1]),
        points=pts,
        point_labels=labels,
    )
    vis.dataset_meta = dict(classes=('plane', 'ship'))
    out = vis.draw_datasample(image, sample)
    assert out.shape == (h, 2 * w + vis.panel_gap, 3)
    wrong = DetDataSample(metainfo=dict(img_path='bad.jpg'))
    wrong.pred_instances = InstanceData(masks=torch.zeros(1, h + 1, w, dtype=torch.bool))
    with pytest.raises(ValueError, match='bad.jpg.*65x96'):
        vis.draw_datasample(image, wrong)


def test_hundreds_of_instances_stay_fast(vis):
    h, w = 1000, 1500
    n = 300
    rng = np.random.default_rng(0)
    masks = np.zeros((n, h, w), bool)
    for i in range(n):
        y, x = rng.integers(0, h - 50), rng.integers(0, w - 50)
        masks[i, y : y + rng.integers(5, 50), x : x + rng.integers(5, 50)] = True
    inst = InstanceData(
        masks=torch.from_numpy(masks),
        labels=torch.zeros(n, dtype=torch.long),
        scores=torch.rand(n),
        points=torch.rand(n, 2, 2) * 900,
        point_labels=torch.tensor([[1, 0]] * n),
        rboxes=torch.rand(n, 5) * 100,
    )
    image = np.full((h, w, 3), GREY, np.uint8)
    start = time.perf_counter()
    out = vis.draw_instances(image, inst, classes=['thing'])
    assert out.shape == (h, w, 3)
    assert time.perf_counter() - start < 20  # ~1 s on one core; generous for shared CI


def test_pseudo_label_record(vis):
    h, w = 50, 70
    image = np.full((h, w, 3), GREY, np.uint8)
    masks = torch.zeros(2, h, w, dtype=torch.bool)
    masks[0, 5:20, 5:20] = True
    masks[1, 25:45, 30:60] = True
    record = dict(
        img_path='x.jpg',
        ori_shape=(h, w),
        points=torch.tensor([[[10.0, 10.0]], [[40.0, 35.0]]]),
        point_labels=torch.ones(2, 1, dtype=torch.long),
        pseudo_masks=masks,
        student_masks=masks.flip(0),
        labels=torch.tensor([0, 1]),
    )
    out = vis.draw_pseudo_labels(image, record)
    assert out.shape == (h, 2 * w + vis.panel_gap, 3)
    with pytest.raises(KeyError, match='student_masks'):
        vis.draw_pseudo_labels(image, {k: v for k, v in record.items() if k != 'student_masks'})
    # with ground truth (training that reads masks): a third panel, first, left of the others
    truth = torch.zeros(2, h, w, dtype=torch.bool)
    truth[0, 5:20, 5:20] = True
    three = vis.draw_pseudo_labels(image, dict(record, gt_masks=truth))
    assert three.shape == (h, 3 * w + 2 * vis.panel_gap, 3)
    assert not np.array_equal(three[:, :w], out[:, :w])  # truth (one mask) is not the pseudo
    # a truth that does not pair with the pseudo masks is not drawn
    assert vis.draw_pseudo_labels(image, dict(record, gt_masks=truth[:1])).shape == out.shape


def test_add_datasample_writes_out_file(vis, tmp_path):
    h, w = 30, 40
    sample = DetDataSample(metainfo=dict(img_path='x.jpg'))
    sample.pred_instances = InstanceData(
        masks=torch.ones(1, h, w, dtype=torch.bool),
        scores=torch.tensor([0.5]),
        labels=torch.tensor([0]),
    )
    out = tmp_path / 'drawn.png'
    vis.add_datasample('x', np.full((h, w, 3), GREY, np.uint8), sample, out_file=str(out))
    import mmcv

    assert mmcv.imread(str(out)).shape == (h, w, 3)
