"""Parity of the paper-protocol options with the public PointSAM / ReSAM code (issue #15), and
hand-derived values of the losses and the metric. Every expected number below is derived in the
comment next to it, not read back from the code under test."""
import math

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmpointsam.models.data_preprocessors import SAMDataPreprocessor, longest_side_shape
from mmpointsam.models.utils import (input_to_original_points, low_res_to_original,
                                     original_to_input_points, original_to_low_res,
                                     pad_offset_of)
from mmpointsam.registry import MODELS


# ---------------------------------------------------------------- 1. input to SAM: padding
def _sample(ori_shape, points=None):
    sample = DetDataSample(metainfo=dict(ori_shape=ori_shape))
    if points is not None:
        inst = InstanceData()
        inst.points = torch.as_tensor(points, dtype=torch.float32)
        inst.point_labels = torch.ones(inst.points.shape[:2], dtype=torch.long)
        inst.labels = torch.zeros(len(inst.points), dtype=torch.long)
        sample.gt_instances = inst
    return sample


def test_pad_mode_is_checked():
    with pytest.raises(ValueError, match=r"pad_mode must be one of \('corner', 'center'\), "
                       r"got 'middle'"):
        SAMDataPreprocessor(pad_mode='middle')


def test_center_padding_offset_odd_pixel_and_raw_unit_range():
    # 40 x 23 image, img_size 64: scale 64/40 = 1.6, new_w = int(23 * 1.6 + 0.5) = int(37.3) = 37.
    # Public ResizeAndPad: left = (64 - 37) // 2 = 13, right = 64 - 37 - 13 = 14 (the odd pixel
    # goes right); top = (64 - 64) // 2 = 0.
    pre = SAMDataPreprocessor(img_size=64, mean=(0, 0, 0), std=(255, 255, 255),
                              pad_mode='center')
    img = torch.full((3, 40, 23), 255, dtype=torch.uint8)
    out = pre(dict(inputs=[img], data_samples=[_sample((40, 23))]))
    batch, sample = out['inputs'], out['data_samples'][0]
    assert sample.img_shape == (64, 37) and sample.pad_offset == (0, 13)
    assert pad_offset_of(sample) == (0, 13)
    # raw [0, 1] input (ToTensor's /255): a 255 image is exactly 1.0 inside, 0 in the padding
    assert torch.allclose(batch[0, :, :, 13:50], torch.ones(3, 64, 37), atol=1e-5)
    assert torch.count_nonzero(batch[0, :, :, :13]) == 0
    assert torch.count_nonzero(batch[0, :, :, 50:]) == 0
    # corner mode: same values at the top-left, offset (0, 0)
    corner = SAMDataPreprocessor(img_size=64, mean=(0, 0, 0), std=(255, 255, 255))
    out_c = corner(dict(inputs=[img], data_samples=[_sample((40, 23))]))
    assert out_c['data_samples'][0].pad_offset == (0, 0)
    assert torch.allclose(out_c['inputs'][0, :, :, :37], batch[0, :, :, 13:50])


def test_raw_unit_range_equals_to_tensor_without_resize():
    # no resize (longest side already img_size): the input is exactly RGB / 255 (ToTensor)
    pre = SAMDataPreprocessor(img_size=32, mean=(0, 0, 0), std=(255, 255, 255),
                              pad_mode='center')
    img = torch.randint(0, 256, (3, 32, 20), dtype=torch.uint8)
    out = pre(dict(inputs=[img], data_samples=[_sample((32, 20))]))
    # left = (32 - 20) // 2 = 6
    expected = img.flip(0).float() / 255  # BGR -> RGB, then /255
    assert torch.allclose(out['inputs'][0, :, :, 6:26], expected, atol=1e-6)


def test_center_point_lands_on_the_right_input_pixel():
    # 20 x 40 (h x w), img_size 64: scale 1.6, img_shape (32, 64), top = (64 - 32) // 2 = 16.
    # original pixel (x=10, y=5) -> (10 * 1.6, 5 * 1.6 + 16) = (16, 24)
    pre = SAMDataPreprocessor(img_size=64, pad_mode='center')
    sample = pre(dict(inputs=[torch.zeros(3, 20, 40, dtype=torch.uint8)],
                      data_samples=[_sample((20, 40))]))['data_samples'][0]
    assert sample.pad_offset == (16, 0)
    pts = torch.tensor([[10., 5.]])
    mapped = original_to_input_points(pts, sample.scale_factor, pad_offset_of(sample))
    assert mapped.tolist() == [[16., 24.]]
    back = input_to_original_points(mapped, sample.scale_factor, pad_offset_of(sample))
    assert torch.allclose(back, pts)
    # the image content really is there: a white pixel at original (10, 5)
    img = torch.zeros(3, 20, 40, dtype=torch.uint8)
    img[:, 5, 10] = 255
    pre_raw = SAMDataPreprocessor(img_size=64, mean=(0, 0, 0), std=(255, 255, 255),
                                  pad_mode='center')
    batch = pre_raw(dict(inputs=[img], data_samples=[_sample((20, 40))]))['inputs']
    # its resized footprint spans input pixels [16, 17.6) x [24, 25.6): the brightest is (24, 16)
    y, x = divmod(int(batch[0, 0].argmax()), 64)
    assert (x, y) == (16, 24)


@pytest.mark.parametrize('pad_mode', ['corner', 'center'])
@pytest.mark.parametrize('ori_shape', [(300, 500), (517, 389), (131, 77)])
def test_mask_round_trip_both_pad_modes(pad_mode, ori_shape):
    h, w = ori_shape
    mask = np.zeros((h, w), dtype=bool)
    mask[h // 5:h // 2, w // 3:w - w // 6] = True
    yy, xx = np.mgrid[:h, :w]
    mask |= (yy - 0.7 * h)**2 + (xx - 0.3 * w)**2 < (0.12 * min(h, w))**2
    img_size, low = 1024, 256
    img_shape = longest_side_shape(h, w, img_size)
    pre = SAMDataPreprocessor(img_size=img_size, pad_mode=pad_mode)
    offset = pre.pad_offset(*img_shape)
    soft = original_to_low_res(torch.from_numpy(mask)[None], img_shape, img_size, low, offset)
    back = low_res_to_original(soft * 2 - 1, img_shape, (h, w), img_size, offset)[0] > 0
    inter = (back & torch.from_numpy(mask)).sum().item()
    union = (back | torch.from_numpy(mask)).sum().item()
    assert back.shape == (h, w) and inter / union > 0.95
    # the low-res mask sits inside the image's part of the grid (nothing in the padding)
    top, left = offset
    rows = soft[0].sum(1).nonzero()
    cols = soft[0].sum(0).nonzero()
    assert rows.min() >= top // 4 and rows.max() <= (top + img_shape[0]) // 4
    assert cols.min() >= left // 4 and cols.max() <= (left + img_shape[1]) // 4


def test_low_res_to_original_honours_the_offset():
    # one low-res cell on at (row 3, col 5) of a 16 grid (input 64, 4 px a cell): input pixels
    # y in [12, 16), x in [20, 24). With the image at offset (top 8, left 0) and scale 2
    # (32 x 32 original), original y = (12 - 8) / 2 .. (16 - 8) / 2 = [2, 4), x = [10, 12).
    logits = torch.full((1, 16, 16), -10.0)
    logits[0, 3, 5] = 10.0
    back = low_res_to_original(logits, (64, 64), (32, 32), 64, (8, 0))[0] > 0
    ys, xs = torch.nonzero(back, as_tuple=True)
    assert ys.min() >= 2 and ys.max() <= 3 and xs.min() >= 10 and xs.max() <= 11


def _tiny_segmentor(pad_mode, img_size=64):
    init_default_scope('mmpointsam')
    return MODELS.build(dict(
        type='PointSAM',
        data_preprocessor=dict(type='SAMDataPreprocessor', img_size=img_size,
                               mean=(0, 0, 0), std=(255, 255, 255), pad_mode=pad_mode),
        sam=dict(type='SAM', arch='tiny', img_size=img_size, init_cfg=None))).eval()


def test_tiny_predict_center_mode_masks_at_original_size():
    torch.manual_seed(0)
    model = _tiny_segmentor('center')
    img = torch.randint(0, 256, (3, 30, 50), dtype=torch.uint8)
    clicks = [[[12., 8.]], [[40., 20.]]]
    data = model.data_preprocessor(
        dict(inputs=[img], data_samples=[_sample((30, 50), clicks)]), False)
    # 30 x 50 -> (38, 64): int(30 * 1.28 + 0.5) = 38; top = (64 - 38) // 2 = 13
    assert data['data_samples'][0].pad_offset == (13, 0)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    masks = out[0].pred_instances.masks
    assert masks.shape == (2, 30, 50) and masks.dtype == torch.bool


def test_center_mode_prompt_and_mask_frames_agree(monkeypatch):
    """collect_prompts -> decode -> masks at original size, with a decoder stub that lights the
    low-res cells around each prompt: the mask must come back around the original click (with
    bottom-right padding assumed instead, the 13 px offset would put them off by 10 pixels)."""
    model = _tiny_segmentor('center')
    sam = model.sam
    stride = sam.img_size // sam.low_res_size

    def lit_cell(embeddings, batch_idx, points=None, point_labels=None, **kwargs):
        logits = torch.full((len(points), sam.low_res_size, sam.low_res_size), -10.0)
        for i, (x, y) in enumerate(points[:, 0].tolist()):
            # the 3 x 3 cells around the prompt's cell: the click's pixel is well inside
            cy, cx = int(y // stride), int(x // stride)
            logits[i, max(cy - 1, 0):cy + 2, max(cx - 1, 0):cx + 2] = 10.0
        return logits, torch.ones(len(points))

    monkeypatch.setattr(sam, 'decode', lit_cell)
    img = torch.zeros((3, 30, 50), dtype=torch.uint8)
    clicks = [[[12., 8.]], [[40., 20.]], [[3., 27.]]]
    data = model.data_preprocessor(
        dict(inputs=[img], data_samples=[_sample((30, 50), clicks)]), False)
    with torch.no_grad():
        masks = model.predict(data['inputs'], data['data_samples'])[0].pred_instances.masks
    for i, ((x, y), ) in enumerate(clicks):
        assert masks[i, int(y), int(x)], (i, x, y)
        assert masks[i].sum() < 30 * 50 / 8  # a few lit cells, not the whole image
