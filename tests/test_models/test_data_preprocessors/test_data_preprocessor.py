import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample

from mmpointsam.models.data_preprocessors import SAMDataPreprocessor, longest_side_shape
from mmpointsam.models.utils import low_res_to_original, original_to_low_res


def test_longest_side_shape_matches_segment_anything():
    from segment_anything.utils.transforms import ResizeLongestSide

    for h, w in [(600, 800), (939, 1000), (333, 1024), (1000, 511)]:
        assert longest_side_shape(h, w, 1024) == ResizeLongestSide.get_preprocess_shape(h, w, 1024)


def test_resize_normalise_pad_and_metainfo():
    pre = SAMDataPreprocessor(img_size=64, bgr_to_rgb=True)
    img = torch.zeros(3, 20, 40, dtype=torch.uint8)
    img[0] = 255  # blue channel in BGR
    sample = DetDataSample(metainfo=dict(ori_shape=(20, 40)))
    out = pre(dict(inputs=[img], data_samples=[sample]))
    batch = out['inputs']
    sample = out['data_samples'][0]
    assert batch.shape == (1, 3, 64, 64)
    assert sample.img_shape == (32, 64)
    assert sample.scale_factor == (64 / 40, 32 / 20)
    # RGB order after the flip: blue is the last channel
    expected_b = (255 - 103.53) / 57.375
    assert torch.allclose(batch[0, 2, :32], torch.full((32, 64), expected_b), atol=1e-4)
    assert torch.allclose(batch[0, 0, :32], torch.full((32, 64), -123.675 / 58.395), atol=1e-4)
    # padding is zero after normalisation
    assert torch.count_nonzero(batch[0, :, 32:]) == 0


def test_views_share_geometry():
    pre = SAMDataPreprocessor(img_size=32)
    weak = [torch.randint(0, 255, (3, 10, 16), dtype=torch.uint8)]
    strong = [torch.randint(0, 255, (3, 10, 16), dtype=torch.uint8)]
    sample = DetDataSample()
    out = pre(dict(inputs=dict(weak=weak, strong=strong), data_samples=[sample]))
    assert set(out['inputs']) == {'weak', 'strong'}
    assert out['inputs']['weak'].shape == out['inputs']['strong'].shape == (1, 3, 32, 32)
    sample = out['data_samples'][0]
    assert sample.img_shape == (20, 32)


@pytest.mark.parametrize('ori_shape', [(300, 500), (517, 389), (256, 256)])
def test_mask_round_trip_through_low_res(ori_shape):
    """A known mask -> low-res frame (training targets) -> back to the image (predictions)."""
    h, w = ori_shape
    mask = np.zeros((h, w), dtype=bool)
    mask[h // 5 : h // 2, w // 3 : w - w // 6] = True  # a rectangle
    yy, xx = np.mgrid[:h, :w]
    mask |= (yy - 0.7 * h) ** 2 + (xx - 0.3 * w) ** 2 < (0.12 * min(h, w)) ** 2  # and a disc
    img_size, low = 1024, 256
    img_shape = longest_side_shape(h, w, img_size)
    soft = original_to_low_res(torch.from_numpy(mask)[None], img_shape, img_size, low)
    assert soft.shape == (1, low, low)
    logits = soft * 2 - 1  # > 0 where the low-res mask covers more than half a cell
    back = low_res_to_original(logits, img_shape, (h, w), img_size)[0] > 0
    assert back.shape == (h, w)
    inter = (back & torch.from_numpy(mask)).sum().item()
    union = (back | torch.from_numpy(mask)).sum().item()
    assert inter / union > 0.95


def test_low_res_to_original_places_pixels_exactly():
    # one low-res cell on: it must come back where the resize put it
    img_size, low = 64, 16  # one low-res cell = 4 input pixels
    ori = (32, 32)  # scaled x2 into the input frame: one cell = 2 original pixels
    logits = torch.full((1, low, low), -10.0)
    logits[0, 3, 5] = 10.0
    back = low_res_to_original(logits, (64, 64), ori, img_size)[0] > 0
    ys, xs = torch.nonzero(back, as_tuple=True)
    assert ys.min() >= 6 and ys.max() <= 7 and xs.min() >= 10 and xs.max() <= 11
