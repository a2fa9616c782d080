"""PointSAMInferencer: clicks -> masks, scores, le90 rboxes; native-resolution windows on large
scenes (tiny SAM; geometry checked with a decoder that paints a disc at each prompt)."""

import json
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from conftest import NWPU, REPO

from mmpointsam.apis import PointSAMInferencer
from mmpointsam.apis.inferencer import group_prompts, plan_windows
from mmpointsam.testing import build_mosaic

SHARED_NWPU = osp.join(osp.dirname(REPO), 'shared', 'data', 'nwpu_vhr10')
NWPU_ALL = osp.join(SHARED_NWPU, 'annotations', 'NWPU_instances_train.json')


def test_plan_windows_puts_each_click_deepest_inside_one_window():
    anchors = np.array([[10, 10], [500, 500], [990, 20], [650, 310]], np.float32)
    windows, index = plan_windows(1000, 1000, anchors, size=400, overlap=100)
    assert (windows[:, 2] - windows[:, 0] <= 400).all() and (
        windows[:, 3] - windows[:, 1] <= 400
    ).all()
    for (x, y), k in zip(anchors, index):
        x0, y0, x1, y1 = windows[k]
        assert x0 <= x < x1 and y0 <= y < y1
    assert windows[index[1]].tolist() == [300, 300, 700, 700]  # 200 px from every border
    assert windows[index[2]].tolist() == [600, 0, 1000, 400]
    assert index[3] == index[2] and len(windows) == 3  # (650, 310): 50 px deep there
    # a scene no larger than a window is one window
    windows, index = plan_windows(300, 200, anchors[:1], size=400, overlap=100)
    assert windows.tolist() == [[0, 0, 200, 300]] and index.tolist() == [0]


def test_group_prompts_clicks_and_background():
    prompts, labels = group_prompts([[1, 2], [3, 4], [5, 6]], [1, 0, 1])
    np.testing.assert_array_equal(prompts, [[[1, 2], [3, 4]], [[5, 6], [3, 4]]])
    np.testing.assert_array_equal(labels, [[1, 0], [1, 0]])
    with pytest.raises(ValueError, match='needs a positive point'):
        group_prompts([[[1, 2]]], [[0]])


def test_click_negatives_are_the_nearest_other_clicks():
    from mmpointsam.apis.inferencer import add_click_negatives

    prompts, labels = group_prompts([[0, 0], [10, 0], [100, 0], [50, 50]], [1, 1, 1, 0])
    anchors = prompts[:, 0]
    out, out_labels = add_click_negatives(prompts, labels, anchors, k=1)
    np.testing.assert_array_equal(out[:, 2], [[10, 0], [0, 0], [10, 0]])
    np.testing.assert_array_equal(out_labels, [[1, 0, 0]] * 3)  # background click kept


@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    return PointSAMInferencer(
        arch='tiny', img_size=256, device='cpu', window_size=1024, window_overlap=256
    )


def test_small_image_random_tiny_model(tiny):
    path = osp.join(NWPU, 'images', '414.jpg')  # 618 x 529: one window
    clicks = [[100, 200], [300, 50], [600, 500]]
    result = tiny(path, clicks)
    assert len(result) == 3 and result.windows.tolist() == [[0, 0, 618, 529]]
    assert result.image_shape == (529, 618) and result.scores.shape == (3,)
    full = result.full_masks()
    assert full.shape == (3, 529, 618)
    for i, rle in enumerate(result.rles()):
        np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool), full[i])
    label = result.label_map()
    assert set(np.unique(label)) <= {0, 1, 2, 3}
    assert ((label > 0) == full.any(0)).all()
    # an array gives the same masks as the path
    again = tiny(cv2.imread(path), np.array(clicks))
    np.testing.assert_array_equal(again.full_masks(), full)
    empty = tiny(path, [[5, 5]], labels=[0])  # background clicks only: nothing to segment
    assert len(empty) == 0 and empty.label_map().max() == 0 and empty.rles() == []
    with pytest.raises(
        ValueError,
        match=r'414\.jpg: click \[700\.0, 10\.0\] of prompt 0 is '
        'outside the 618x529 image',
    ):
        tiny(path, [[700, 10]])
    with pytest.raises(ValueError, match=r'click \[nan, 10\.0\] of prompt 0 is outside'):
        tiny(path, [[float('nan'), 10]])


def test_plain_sam_file_builds_without_a_config(tiny, tmp_path):
    path = str(tmp_path / 'sam_tiny.pth')
    torch.save(tiny.model.sam.state_dict(), path)
    plain = PointSAMInferencer(checkpoint=path, img_size=256, device='cpu')  # arch read: tiny
    assert plain.model.sam.arch_name == 'tiny'
    img = osp.join(NWPU, 'images', '140.jpg')
    np.testing.assert_array_equal(
        plain(img, [[50, 60]]).full_masks(), tiny(img, [[50, 60]]).full_masks()
    )
    torch.save(dict(state_dict={'sam.x': torch.zeros(1)}), str(tmp_path / 'bare.pth'))
    with pytest.raises(
        ValueError,
        match=r'bare\.pth is a trained PointSAM checkpoint without '
        'its config',
    ):
        PointSAMInferencer(checkpoint=str(tmp_path / 'bare.pth'))


def _disc_decoder(sam, radius):
    """A mask decoder that answers every prompt with a disc of ``radius`` low-res pixels at its
    first point (input frame): the masks must come back around the clicks in the scene."""
    size = sam.low_res_size
    grid = torch.arange(size, dtype=torch.float32) + 0.5

    def decode(embeddings, batch_idx, points, labels, multimask_output=False):
        centre = (points[:, 0] + 0.5) * size / sam.img_size  # (N, 2) low-res xy
        dx = grid[None, None, :] - centre[:, 0, None, None]
        dy = grid[None, :, None] - centre[:, 1, None, None]
        logits = torch.where(dx**2 + dy**2 <= radius**2, 10.0, -10.0)
        return logits, torch.ones(len(points))

    return decode


@pytest.mark.skipif(not osp.isfile(NWPU_ALL), reason='real NWPU at ../shared/data/nwpu_vhr10')
def test_window_path_on_a_4000px_mosaic(tiny, tmp_path, monkeypatch):
    mosaic = build_mosaic(
        NWPU_ALL, osp.join(SHARED_NWPU, 'images'), size=(4000, 4000), out_dir=str(tmp_path)
    )
    anns = mosaic['coco']['annotations']
    rng = np.random.default_rng(0)
    picked = [anns[i] for i in rng.choice(len(anns), 12, replace=False)]
    clicks = np.array(
        [[a['bbox'][0] + a['bbox'][2] / 2, a['bbox'][1] + a['bbox'][3] / 2] for a in picked]
    )
    clicks = np.concatenate([clicks, [[1000, 1000], [3999, 3999], [0, 3990]]])  # edges, corner
    clicks = np.floor(clicks)
    seen = []
    pre = tiny.model.data_preprocessor
    original_forward = pre.forward

    def record(data, training=False):
        seen.append(tuple(data['inputs'][0].shape))
        return original_forward(data, training)

    monkeypatch.setattr(pre, 'forward', record)
    monkeypatch.setattr(tiny.model.sam, 'decode', _disc_decoder(tiny.model.sam, radius=3))
    result = tiny(mosaic['img_path'], clicks)

    assert len(result) == len(clicks) and result.image_shape == (4000, 4000)
    # windows: native resolution, at most window_size, one encoder pass per used window
    sizes = result.windows[:, 2:] - result.windows[:, :2]
    assert (sizes <= 1024).all() and len(seen) == len(result.windows) < 16
    assert all(s[1] <= 1024 and s[2] <= 1024 for s in seen)
    for (x, y), k in zip(clicks, result.window_index):  # every click inside its window
        x0, y0, x1, y1 = result.windows[k]
        assert x0 <= x < x1 and y0 <= y < y1
    # disc of 3 low-res px = 12 input px = 48 scene px (window 1024 -> input 256): masks and
    # rboxes come back around the clicks, in the scene frame, cropped to their own extent; the
    # disc is drawn on the 64 x 64 low-res grid, so centres are exact to half a cell (8 px)
    assert result.valid.all()
    for i, (x, y) in enumerate(clicks):
        mask, (ox, oy) = result.masks[i], result.offsets[i]
        assert max(mask.shape) <= 2 * 48 + 8  # memory follows the object, not the scene
        assert mask[int(y) - oy, int(x) - ox]  # the clicked pixel is in its mask
        ys, xs = np.nonzero(mask)
        inside = (0 < x < 3999) and (0 < y < 3990)
        if inside:
            assert abs(xs.mean() + ox - x) <= 9 and abs(ys.mean() + oy - y) <= 9
            cx, cy, w, h, _ = result.rboxes[i]
            assert abs(cx - x) <= 9 and abs(cy - y) <= 9 and 80 < max(w, h) < 112
    rle = result.rles()[0]
    assert rle['size'] == [4000, 4000]
    assert mask_utils.area(rle) == result.masks[0].sum()
    with open(mosaic['ann_file']) as f:  # the mosaic json is a plain COCO file
        assert json.load(f)['images'][0]['width'] == 4000
