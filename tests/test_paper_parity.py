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
from mmpointsam.models.utils import (
    input_to_original_points,
    low_res_to_original,
    original_to_input_points,
    original_to_low_res,
    pad_offset_of,
)
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
    with pytest.raises(
        ValueError,
        match=r"pad_mode must be one of \('corner', 'center'\), "
        r"got 'middle'",
    ):
        SAMDataPreprocessor(pad_mode='middle')


def test_center_padding_offset_odd_pixel_and_raw_unit_range():
    # 40 x 23 image, img_size 64: scale 64/40 = 1.6, new_w = int(23 * 1.6 + 0.5) = int(37.3) = 37.
    # Public ResizeAndPad: left = (64 - 37) // 2 = 13, right = 64 - 37 - 13 = 14 (the odd pixel
    # goes right); top = (64 - 64) // 2 = 0.
    pre = SAMDataPreprocessor(img_size=64, mean=(0, 0, 0), std=(255, 255, 255), pad_mode='center')
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
    pre = SAMDataPreprocessor(img_size=32, mean=(0, 0, 0), std=(255, 255, 255), pad_mode='center')
    img = torch.randint(0, 256, (3, 32, 20), dtype=torch.uint8)
    out = pre(dict(inputs=[img], data_samples=[_sample((32, 20))]))
    # left = (32 - 20) // 2 = 6
    expected = img.flip(0).float() / 255  # BGR -> RGB, then /255
    assert torch.allclose(out['inputs'][0, :, :, 6:26], expected, atol=1e-6)


def test_center_point_lands_on_the_right_input_pixel():
    # 20 x 40 (h x w), img_size 64: scale 1.6, img_shape (32, 64), top = (64 - 32) // 2 = 16.
    # original pixel (x=10, y=5) -> (10 * 1.6, 5 * 1.6 + 16) = (16, 24)
    pre = SAMDataPreprocessor(img_size=64, pad_mode='center')
    sample = pre(
        dict(inputs=[torch.zeros(3, 20, 40, dtype=torch.uint8)], data_samples=[_sample((20, 40))])
    )['data_samples'][0]
    assert sample.pad_offset == (16, 0)
    pts = torch.tensor([[10.0, 5.0]])
    mapped = original_to_input_points(pts, sample.scale_factor, pad_offset_of(sample))
    assert mapped.tolist() == [[16.0, 24.0]]
    back = input_to_original_points(mapped, sample.scale_factor, pad_offset_of(sample))
    assert torch.allclose(back, pts)
    # the image content really is there: a white pixel at original (10, 5)
    img = torch.zeros(3, 20, 40, dtype=torch.uint8)
    img[:, 5, 10] = 255
    pre_raw = SAMDataPreprocessor(
        img_size=64, mean=(0, 0, 0), std=(255, 255, 255), pad_mode='center'
    )
    batch = pre_raw(dict(inputs=[img], data_samples=[_sample((20, 40))]))['inputs']
    # its resized footprint spans input pixels [16, 17.6) x [24, 25.6): the brightest is (24, 16)
    y, x = divmod(int(batch[0, 0].argmax()), 64)
    assert (x, y) == (16, 24)


@pytest.mark.parametrize('pad_mode', ['corner', 'center'])
@pytest.mark.parametrize('ori_shape', [(300, 500), (517, 389), (131, 77)])
def test_mask_round_trip_both_pad_modes(pad_mode, ori_shape):
    h, w = ori_shape
    mask = np.zeros((h, w), dtype=bool)
    mask[h // 5 : h // 2, w // 3 : w - w // 6] = True
    yy, xx = np.mgrid[:h, :w]
    mask |= (yy - 0.7 * h) ** 2 + (xx - 0.3 * w) ** 2 < (0.12 * min(h, w)) ** 2
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
    return MODELS.build(
        dict(
            type='PointSAM',
            data_preprocessor=dict(
                type='SAMDataPreprocessor',
                img_size=img_size,
                mean=(0, 0, 0),
                std=(255, 255, 255),
                pad_mode=pad_mode,
            ),
            sam=dict(type='SAM', arch='tiny', img_size=img_size, init_cfg=None),
        )
    ).eval()


def test_tiny_predict_center_mode_masks_at_original_size():
    torch.manual_seed(0)
    model = _tiny_segmentor('center')
    img = torch.randint(0, 256, (3, 30, 50), dtype=torch.uint8)
    clicks = [[[12.0, 8.0]], [[40.0, 20.0]]]
    data = model.data_preprocessor(
        dict(inputs=[img], data_samples=[_sample((30, 50), clicks)]), False
    )
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
            logits[i, max(cy - 1, 0) : cy + 2, max(cx - 1, 0) : cx + 2] = 10.0
        return logits, torch.ones(len(points))

    monkeypatch.setattr(sam, 'decode', lit_cell)
    img = torch.zeros((3, 30, 50), dtype=torch.uint8)
    clicks = [[[12.0, 8.0]], [[40.0, 20.0]], [[3.0, 27.0]]]
    data = model.data_preprocessor(
        dict(inputs=[img], data_samples=[_sample((30, 50), clicks)]), False
    )
    with torch.no_grad():
        masks = model.predict(data['inputs'], data['data_samples'])[0].pred_instances.masks
    for i, ((x, y),) in enumerate(clicks):
        assert masks[i, int(y), int(x)], (i, x, y)
        assert masks[i].sum() < 30 * 50 / 8  # a few lit cells, not the whole image


# ---------------------------------------------------------------- 2. ReSAM refine / requery
from mmpointsam.models.self_training import NegativePromptCalibration  # noqa: E402
from mmpointsam.models.self_training.resam import ConfidenceRefiner  # noqa: E402

PAPER_RESAM = dict(threshold=0.3, entropy_unit='nats', full_resolution=True, requery_prompt='box')


def _logit(p):
    return math.log(p / (1 - p))


def test_refiner_options_are_checked():
    with pytest.raises(
        ValueError,
        match=r"entropy_unit must be one of \('bits', 'nats'\), "
        r"got 'bans'",
    ):
        ConfidenceRefiner(entropy_unit='bans')
    with pytest.raises(
        ValueError,
        match=r"requery_prompt must be one of \('points\+box', "
        r"'box'\), got 'points'",
    ):
        ConfidenceRefiner(requery_prompt='points')


def test_confidence_in_nats_vs_bits():
    # c(p) = p (1 - H(p)), H in nats (public code) or bits (default):
    #   p     H_nats = -(p ln p + q ln q)       c_nats  >0.3 | H_bits = H_nats/ln2  c_bits  >0.25
    #   0.75  .75*.28768 + .25*1.38629 = .56233  .32825  yes  | .81128             .14154  no
    #   0.85  .85*.16252 + .15*1.89712 = .42271  .49070  yes  | .60984             .33164  yes
    #   0.70  .70*.35667 + .30*1.20397 = .61086  .27239  no   | .88129             .08310  no
    #   0.73  .73*.31471 + .27*1.30933 = .58326  .30422  yes  | .84146             .11573  no
    #   0.72  .72*.32850 + .28*1.27297 = .59295  .29308  no   | .85545             .10408  no
    #   0.99  .99*.01005 + .01*4.60517 = .05600  .93456  yes  | .08079             .91001  yes
    probs = torch.tensor([[0.75, 0.85, 0.70], [0.73, 0.72, 0.99]])
    logits = torch.logit(probs)[None]
    one = torch.zeros(1, dtype=torch.long)
    nats = ConfidenceRefiner(threshold=0.3, entropy_unit='nats').refine(logits, one)[0]
    bits = ConfidenceRefiner(threshold=0.25).refine(logits, one)[0]
    assert nats.tolist() == [[True, True, False], [True, False, True]]
    assert bits.tolist() == [[False, True, False], [False, False, True]]


def _block_logits():
    """16 x 16 low-res logits (input 64: 4 px a cell): cells rows 2..5 x cols 3..8 at
    logit(0.99) = ln 99 = 4.59512, cells rows 2..5 x col 9 at logit(0.75) = ln 3 = 1.09861, the
    rest at logit(0.01) = -4.59512."""
    logits = torch.full((1, 16, 16), _logit(0.01))
    logits[0, 2:6, 3:9] = _logit(0.99)
    logits[0, 2:6, 9] = _logit(0.75)
    return logits


def test_full_resolution_region_and_box():
    # Low-res grid (default, bits @ 0.25): col 9 (p 0.75, c_bits .14154) fails, the 0.99 cells
    # pass: cells x 3..8, y 2..5 -> pixel-edge box (3, 2, 9, 6) * 4 = (12, 8, 36, 24).
    # Full resolution (paper, nats @ 0.3): bilinear, align_corners=False, to 64 x 64; pixel x
    # samples the grid at u = (x + 0.5) / 4 - 0.5, linear in the logits between cell centres.
    # Columns, on a block row (rows 2..5 are all whole-weight for y 10..21):
    #   x=11 u=2.375: .375*4.59512 + .625*(-4.59512) = -1.149  p .24071  c .10786 out
    #   x=12 u=2.625: .625*4.59512 + .375*(-4.59512) =  1.149  p .75929  H_nats .55190
    #        c = .75929 * (1 - .55190) = .34024 > 0.3 in
    #   x=36 u=8.625: .375*4.59512 + .625*1.09861   =  2.40980 p .91757  c .65638 in
    #   x=37 u=8.875: .125*4.59512 + .875*1.09861   =  1.53568 p .82284  H_nats .46707
    #        c = .82284 * .53293 = .43852 in
    #   x=38 u=9.125: .875*1.09861 + .125*(-4.59512) =  .38690 p .59554  H_nats .67478
    #        c = .59554 * .32522 = .19368 out
    # Rows (on a 0.99 column): y=7 v=1.375 weight .375 -> -1.149 out; y=8 weight .625 -> in
    # (as x=12); y=23 v=5.375 weight .625 in; y=24 weight .375 out.
    # -> region x 12..37, y 8..23, box (12, 8, 38, 24).
    logits = _block_logits()
    one = torch.zeros(1, dtype=torch.long)
    paper = ConfidenceRefiner(threshold=0.3, entropy_unit='nats', full_resolution=True)
    region = paper.refine(logits, one, 64)
    assert region.shape == (1, 64, 64)
    ys, xs = torch.nonzero(region[0], as_tuple=True)
    assert (int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())) == (12, 37, 8, 23)
    low = ConfidenceRefiner().refine(logits, one)
    ys, xs = torch.nonzero(low[0], as_tuple=True)
    assert (int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())) == (3, 8, 2, 5)


class _SpySAM:
    """Records what reaches the decoder; answers all-background logits."""

    img_size = 64

    def __init__(self):
        self.calls = []

    def decode(self, embeddings, batch_idx, points=None, point_labels=None, boxes=None, **kwargs):
        self.calls.append(dict(points=points, point_labels=point_labels, boxes=boxes))
        return torch.full((len(batch_idx), 16, 16), -3.0), torch.zeros(len(batch_idx))


@pytest.mark.parametrize(
    'cfg,box,with_points',
    [
        (PAPER_RESAM, [12.0, 8.0, 38.0, 24.0], False),  # see test_full_resolution_region_and_box
        (dict(), [12.0, 8.0, 36.0, 24.0], True),  # default: low-res grid, bits @ 0.25, points + box
    ],
)
def test_requery_prompt_content(cfg, box, with_points):
    sam = _SpySAM()
    logits = _block_logits()
    points = torch.tensor([[[24.0, 16.0]]])
    labels = torch.ones(1, 1, dtype=torch.long)
    out, boxes, refined = ConfidenceRefiner(**cfg)(
        sam, torch.zeros(1, 32, 4, 4), torch.zeros(1, dtype=torch.long), points, labels, logits
    )
    assert refined.tolist() == [True] and boxes[0].tolist() == box
    assert len(sam.calls) == 1
    call = sam.calls[0]
    assert call['boxes'].tolist() == [box]
    if with_points:
        assert torch.equal(call['points'], points) and torch.equal(call['point_labels'], labels)
    else:
        assert call['points'] is None and call['point_labels'] is None
    # the requeried logits stay on the low-res grid
    assert out.shape == (1, 16, 16) and torch.equal(out[0], torch.full((16, 16), -3.0))


def test_full_resolution_without_requery_maps_region_back_to_the_grid():
    # requery=False: the pseudo mask is the refined region. Full-res region x 12..37, y 8..23
    # (test above); a 4 x 4 cell is in when more than half its pixels are: col 9 (x 36..39) has
    # 2 of 4 -> out, col 3 (x 12..15) 4 of 4 -> in: the 0.99 block, cells x 3..8, y 2..5.
    logits = _block_logits()
    refiner = ConfidenceRefiner(
        threshold=0.3, entropy_unit='nats', full_resolution=True, requery=False
    )
    out, _, _ = refiner(
        _SpySAM(),
        None,
        torch.zeros(1, dtype=torch.long),
        torch.zeros(1, 1, 2),
        torch.ones(1, 1, dtype=torch.long),
        logits,
    )
    expected = torch.zeros(16, 16, dtype=torch.bool)
    expected[2:6, 3:9] = True
    assert torch.equal(out[0] > 0, expected)


# ---------------------------------------------------------------- 3. NPC negatives
# Three instances, each 2 positives then 2 own negatives (the public sampling: num_points of
# each), masks on a 10 x 10 grid: 0 = rows 0..4 x cols 0..4 (25 px), 1 = rows 2..6 x cols 2..6
# (25 px), intersection rows/cols 2..4 = 9 px, union 41, IoU 9/41 = 0.2195 > 0.1: 0 and 1 overlap;
# 2 = rows 8..9 x cols 8..9 touches neither.
NPC_POINTS = torch.tensor(
    [
        [[1.0, 1.0], [2.0, 2.0], [90.0, 90.0], [91.0, 91.0]],
        [[10.0, 10.0], [11.0, 11.0], [80.0, 80.0], [81.0, 81.0]],
        [[50.0, 50.0], [51.0, 51.0], [70.0, 70.0], [71.0, 71.0]],
    ]
)
NPC_LABELS = torch.tensor([[1, 1, 0, 0]] * 3)


def _npc_masks():
    masks = torch.zeros(3, 10, 10, dtype=torch.bool)
    masks[0, 0:5, 0:5] = True
    masks[1, 2:7, 2:7] = True
    masks[2, 8:10, 8:10] = True
    return masks


def test_npc_option_is_checked():
    with pytest.raises(
        ValueError,
        match=r"negative_sampling must be one of \('all', 'random'\), "
        r"got 'some'",
    ):
        NegativePromptCalibration(negative_sampling='some')


def test_npc_all_appends_every_overlapping_positive():
    npc = NegativePromptCalibration(iou_thr=0.1)
    rows, pts, lbs = npc.prompts_from_masks(
        _npc_masks(), torch.zeros(3, dtype=torch.long), NPC_POINTS, NPC_LABELS
    )
    assert rows.tolist() == [0, 1]  # 2 overlaps nobody: its prompts are unchanged
    assert pts[0].tolist() == [[1, 1], [2, 2], [90, 90], [91, 91], [10, 10], [11, 11]]
    assert lbs[0].tolist() == [1, 1, 0, 0, 0, 0]
    assert pts[1].tolist() == [[10, 10], [11, 11], [80, 80], [81, 81], [1, 1], [2, 2]]
    assert lbs[1].tolist() == [1, 1, 0, 0, 0, 0]


def test_npc_random_draws_n_of_own_negatives_and_overlapping_positives():
    npc = NegativePromptCalibration(iou_thr=0.1, negative_sampling='random')
    batch_idx = torch.zeros(3, dtype=torch.long)
    # instance 0: candidates = own negatives {(90,90), (91,91)} + 1's positives {(10,10),
    # (11,11)}; N = its 2 positives; the new prompt is its positives, then the 2 drawn (label 0).
    candidates = {
        0: {(90.0, 90.0), (91.0, 91.0), (10.0, 10.0), (11.0, 11.0)},
        1: {(80.0, 80.0), (81.0, 81.0), (1.0, 1.0), (2.0, 2.0)},
    }
    seen = {0: set(), 1: set()}
    for seed in range(100):
        torch.manual_seed(seed)
        rows, pts, lbs = npc.prompts_from_masks(_npc_masks(), batch_idx, NPC_POINTS, NPC_LABELS)
        assert rows.tolist() == [0, 1]
        assert pts.shape == (2, 4, 2)
        for k, i in enumerate(rows.tolist()):
            assert lbs[k].tolist() == [1, 1, 0, 0]
            assert torch.equal(pts[k, :2], NPC_POINTS[i, :2])
            drawn = [tuple(p) for p in pts[k, 2:].tolist()]
            assert len(set(drawn)) == 2 and set(drawn) <= candidates[i]  # without replacement
            seen[i].add(frozenset(drawn))
        torch.manual_seed(seed)  # the same seed gives the same draw
        again = npc.prompts_from_masks(_npc_masks(), batch_idx, NPC_POINTS, NPC_LABELS)
        assert torch.equal(again[1], pts) and torch.equal(again[2], lbs)
    # every 2-subset of the 4 candidates is drawn at some seed (C(4, 2) = 6)
    assert len(seen[0]) == 6 and len(seen[1]) == 6


def test_npc_random_cap_and_no_negatives_to_draw_from():
    # max_negatives caps N; an instance with no own negatives and fewer overlapping positives
    # than N gets all of them (the public random.sample would raise there)
    npc = NegativePromptCalibration(iou_thr=0.1, max_negatives=1, negative_sampling='random')
    rows, pts, lbs = npc.prompts_from_masks(
        _npc_masks(), torch.zeros(3, dtype=torch.long), NPC_POINTS, NPC_LABELS
    )
    assert lbs.tolist() == [[1, 1, 0], [1, 1, 0]]
    points = torch.tensor(
        [[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], [[10.0, 10.0], [0.0, 0.0], [0.0, 0.0]]]
    )
    labels = torch.tensor([[1, 1, 1], [1, -1, -1]])
    overlap = torch.tensor([[False, True], [True, False]])
    npc = NegativePromptCalibration(negative_sampling='random')
    rows, pts, lbs = npc.calibrated_prompts(points, labels, overlap)
    # instance 0: N = 3, candidates = 1's one positive -> 1 negative
    assert pts[0, :4].tolist() == [[1, 1], [2, 2], [3, 3], [10, 10]]
    assert lbs[0].tolist() == [1, 1, 1, 0]
    # instance 1: N = 1 of 0's three positives
    assert lbs[1].tolist() == [1, 0, -1, -1] and tuple(pts[1, 1].tolist()) in {
        (1.0, 1.0),
        (2.0, 2.0),
        (3.0, 3.0),
    }


# ---------------------------------------------------------------- 4. losses on a 2 x 2 toy
# mask 0: logits [[ln 3, -ln 3], [0, ln 3]] -> p [[.75, .25], [.5, .75]], target [[1, 0], [1, 0]]
# mask 1: logits all 0 -> p .5 everywhere, target all 0
LOSS_LOGITS = torch.tensor(
    [[[math.log(3), -math.log(3)], [0.0, math.log(3)]], [[0.0, 0.0], [0.0, 0.0]]]
)
LOSS_TARGETS = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])


def test_focal_loss_hand_values():
    # alpha_t (1 - p_t)^gamma (-ln p_t), alpha 0.8 on positives / 0.2 on negatives, gamma 2:
    #   (.75, t=1): .8 * .25^2 * ln(4/3) = .0143841   (.25, t=0): .2 * .25^2 * ln(4/3) = .0035960
    #   (.5,  t=1): .8 * .5^2  * ln 2    = .1386294   (.75, t=0): .2 * .75^2 * ln 4   = .1559581
    #   mask 0 mean = .3125676 / 4 = .0781419;  x20 = .3125 ln(4/3) + 2.125 ln 2 = 1.5628384
    #   mask 1: every pixel .2 * .5^2 * ln 2 = .05 ln 2 = .0346574
    #   both: mean over masks, x20 = 10 * (.0781419 + .0346574) = 1.1279930
    focal = MODELS.build(dict(type='MaskFocalLoss', alpha=0.8, gamma=2.0, loss_weight=20.0))
    one = focal(LOSS_LOGITS[:1], LOSS_TARGETS[:1])
    assert one.item() == pytest.approx(0.3125 * math.log(4 / 3) + 2.125 * math.log(2), abs=1e-6)
    assert one.item() == pytest.approx(1.5628384, abs=1e-6)
    assert focal(LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(1.1279930, abs=1e-6)


def test_dice_loss_hand_values():
    # 1 - (2 |P.G| + 1) / (|P| + |G| + 1), smooth 1, per mask then mean:
    #   mask 0: |P.G| = .75 + .5 = 1.25, |P| = 2.25, |G| = 2 -> 1 - 3.5 / 5.25 = 1/3
    #   mask 1: |P.G| = 0, |P| = 2, |G| = 0 -> 1 - 1 / 3 = 2/3;  mean = 1/2
    dice = MODELS.build(dict(type='MaskDiceLoss', smooth=1.0, loss_weight=1.0))
    assert dice(LOSS_LOGITS[:1], LOSS_TARGETS[:1]).item() == pytest.approx(1 / 3, abs=1e-6)
    assert dice(LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(0.5, abs=1e-6)


def test_iou_prediction_loss_hand_values():
    # the mask is logits > 0: mask 0 -> [[1, 0], [0, 1]] vs target [[1, 0], [1, 0]]: I 1, U 3,
    # IoU 1/3; mask 1 -> empty vs empty: IoU 1 (nothing to miss). Predicted (.5, .5):
    # MSE = ((.5 - 1/3)^2 + (.5 - 1)^2) / 2 = (1/36 + 1/4) / 2 = 5/36
    loss = MODELS.build(dict(type='IoUPredictionLoss', loss_weight=1.0))
    pred = torch.tensor([0.5, 0.5])
    assert loss(pred, LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(5 / 36, abs=1e-6)
    assert loss(pred[:1], LOSS_LOGITS[:1], LOSS_TARGETS[:1]).item() == pytest.approx(
        1 / 36, abs=1e-6
    )


# The public code's loss formulas (utils/losses.py of PointSAM and ReSAM; protocol.py
# paper_losses / paper_resam_losses). Per pixel, with binary targets exp(-BCE) = p_t, so
# (1 - exp(-BCE))^2 * BCE = (1 - p_t)^2 * (-ln p_t), on LOSS_LOGITS / LOSS_TARGETS:
#   mask 0: (.75, t=1) .25^2 ln(4/3) = .0625 ln(4/3)   (.25, t=0) .0625 ln(4/3)
#           (.5,  t=1) .5^2 ln 2    = .25 ln 2        (.75, t=0) .75^2 ln 4 = 1.125 ln 2
#           pixel mean m0 = (.125 ln(4/3) + 1.375 ln 2) / 4 = .2472594
#   mask 1: every pixel .25 ln 2, pixel mean m1 = .25 ln 2 = .1732868
LN43, LN2 = math.log(4 / 3), math.log(2)
M0 = (0.125 * LN43 + 1.375 * LN2) / 4
M1 = 0.25 * LN2


def test_public_focal_hand_values():
    assert (M0, M1) == (pytest.approx(0.2472594, abs=1e-7), pytest.approx(0.1732868, abs=1e-7))
    # PointSAM (train_pointsam.py L156, batch of one image): alpha is the mask count N = 2 on
    # the mean over all 8 pixels, x20: 20 * 2 * (4 m0 + 4 m1) / 8 = 20 (m0 + m1) = 8.4109243,
    # i.e. the sum over masks with alpha 1
    pointsam = MODELS.build(
        dict(
            type='MaskFocalLoss',
            alpha=1.0,
            gamma=2.0,
            loss_weight=20.0,
            formula='uniform_alpha',
            mask_reduction='sum',
        )
    )
    assert 20 * 2 * (4 * M0 + 4 * M1) / 8 == pytest.approx(8.4109243, abs=1e-6)
    assert pointsam(LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(8.4109243, abs=1e-5)
    assert pointsam(LOSS_LOGITS[:1], LOSS_TARGETS[:1]).item() == pytest.approx(20 * M0, abs=1e-5)
    # ReSAM (train_resam.py L232, L259): alpha .8 on every pixel, per mask, mean over masks,
    # x20: 20 * .8 * (m0 + m1) / 2 = 8 (m0 + m1) = 3.3643697
    resam = MODELS.build(
        dict(
            type='MaskFocalLoss',
            alpha=0.8,
            gamma=2.0,
            loss_weight=20.0,
            formula='uniform_alpha',
            mask_reduction='mean',
        )
    )
    assert resam(LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(3.3643697, abs=1e-6)


def test_public_focal_saturated_wrong_pixel_costs_100():
    # a logit of 30 on a negative: sigmoid rounds to 1.0 in fp32, the public BCE of the
    # probability is -max(ln 0, -100) = 100 and (1 - e^-100)^2 = 1: x20 -> 2000. Lin et al.'s
    # from the logits: .2 * (1 - e^-30)^2 * 30 = 6, x20 -> 120
    logits, targets = torch.full((1, 1, 1), 30.0), torch.zeros(1, 1, 1)
    public = MODELS.build(
        dict(type='MaskFocalLoss', alpha=1.0, formula='uniform_alpha', mask_reduction='sum')
    )
    assert public(logits, targets).item() == pytest.approx(2000.0)
    assert MODELS.build(dict(type='MaskFocalLoss'))(logits, targets).item() == pytest.approx(120.0)


def test_public_dice_hand_values():
    # pooled over both masks: I = 1.25 + 0, |P| = 2.25 + 2 = 4.25, |G| = 2 + 0 = 2
    #   PointSAM (train_pointsam.py L157: smooth = N = 2): 1 - (2.5 + 2) / (6.25 + 2) = 5/11
    #   protocol value, smooth 1/16 per mask (s = 2/16): 1 - 2.625 / 6.375 = 10/17
    #   pooled, smooth 1: 1 - 3.5 / 7.25 = 15/29
    #   per mask with s = 2: 1 - 4.5 / 6.25 = .28 and 1 - 2 / 4 = .5, mean .39
    def dice(**kw):
        return MODELS.build(dict(type='MaskDiceLoss', **kw))(LOSS_LOGITS, LOSS_TARGETS).item()

    assert dice(smooth=1.0, reduction='pooled', smooth_per_mask=True) == pytest.approx(5 / 11)
    assert dice(smooth=1 / 16, reduction='pooled', smooth_per_mask=True) == pytest.approx(10 / 17)
    assert dice(smooth=1.0, reduction='pooled') == pytest.approx(15 / 29)
    assert dice(smooth=1.0, smooth_per_mask=True) == pytest.approx(0.39)
    # ReSAM (train_resam.py L233, L258): per mask, smooth 1, mean: the default, 1/2
    assert dice(smooth=1.0) == pytest.approx(0.5)


def test_public_iou_target_hand_values():
    # calc_iou (utils/eval_utils.py L39-47): logits >= .5, I / (U + 1e-7).
    # LOSS_LOGITS: mask 0 [[ln 3, -ln 3], [0, ln 3]] -> [[1, 0], [0, 1]] (0 < .5) vs
    # [[1, 0], [1, 0]]: 1 / 3; mask 1 empty vs empty: 0 / 1e-7 = 0 (the default says 1).
    # Predicted (.5, .8): public ((.5 - 1/3)^2 + .8^2) / 2 = (1/36 + .64) / 2 = .3338889;
    # default ((.5 - 1/3)^2 + (.8 - 1)^2) / 2 = (1/36 + .04) / 2 = .0338889
    public = MODELS.build(dict(type='IoUPredictionLoss', pred_threshold=0.5, union_eps=1e-7))
    default = MODELS.build(dict(type='IoUPredictionLoss'))
    pred = torch.tensor([0.5, 0.8])
    assert public(pred, LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(0.3338889, abs=1e-6)
    assert default(pred, LOSS_LOGITS, LOSS_TARGETS).item() == pytest.approx(0.0338889, abs=1e-6)
    # the threshold is on the logits and inclusive: [[.25, .5], [-1, 2]] vs [[1, 1], [0, 0]]:
    # public [[0, 1], [0, 1]] -> I 1, U 3, 1/3; default (> 0) [[1, 1], [0, 1]] -> I 2, U 3, 2/3;
    # predicted .4: public (1/15)^2 = 1/225, default (4/15)^2 = 16/225
    logits, targets = (
        torch.tensor([[[0.25, 0.5], [-1.0, 2.0]]]),
        torch.tensor([[[1.0, 1.0], [0.0, 0.0]]]),
    )
    pred = torch.tensor([0.4])
    assert public(pred, logits, targets).item() == pytest.approx(1 / 225, abs=1e-7)
    assert default(pred, logits, targets).item() == pytest.approx(16 / 225, abs=1e-7)


def test_loss_options_are_checked():
    with pytest.raises(
        ValueError,
        match=r"formula='wesam': choose one of \('balanced', "
        r"'uniform_alpha'\)",
    ):
        MODELS.build(dict(type='MaskFocalLoss', formula='wesam'))
    with pytest.raises(
        ValueError,
        match=r"mask_reduction='image': choose one of \('mean', "
        r"'sum'\)",
    ):
        MODELS.build(dict(type='MaskFocalLoss', mask_reduction='image'))
    with pytest.raises(
        ValueError,
        match=r"reduction='image': choose one of \('mask', "
        r"'pooled'\)",
    ):
        MODELS.build(dict(type='MaskDiceLoss', reduction='image'))


PAPER_LOSSES = dict(
    loss_focal=dict(
        type='MaskFocalLoss',
        alpha=1.0,
        loss_weight=20.0,
        formula='uniform_alpha',
        mask_reduction='sum',
    ),
    loss_dice=dict(type='MaskDiceLoss', smooth=1 / 16, reduction='pooled', smooth_per_mask=True),
    loss_iou=dict(type='IoUPredictionLoss', pred_threshold=0.5, union_eps=1e-7),
)
PAPER_RESAM_LOSSES = dict(
    loss_focal=dict(type='MaskFocalLoss', alpha=0.8, loss_weight=20.0, formula='uniform_alpha'),
    loss_dice=dict(type='MaskDiceLoss', smooth=1 / 16),
    loss_iou=dict(type='IoUPredictionLoss', pred_threshold=0.5, union_eps=1e-7),
)


def _loss_model(losses, chunk):
    init_default_scope('mmpointsam')
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='PointSAM',
            data_preprocessor=dict(type='SAMDataPreprocessor', img_size=64),
            sam=dict(type='SAM', arch='tiny', img_size=64, init_cfg=None, lora=dict(r=2)),
            train_cfg=dict(loss_chunk_size=chunk),
            **losses,
        )
    ).train()


def _mask_sample(n, seed):
    g = torch.Generator().manual_seed(seed)
    sample = DetDataSample(
        metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0))
    )
    inst = InstanceData()
    inst.points = torch.rand(n, 1, 2, generator=g) * 64
    inst.point_labels = torch.ones(n, 1, dtype=torch.long)
    masks = torch.zeros(n, 64, 64, dtype=torch.bool)
    for i, (y, x) in enumerate(torch.randint(0, 40, (n, 2), generator=g).tolist()):
        masks[i, y : y + 20, x : x + 16] = True
    inst.masks, inst.labels = masks, torch.zeros(n, dtype=torch.long)
    sample.gt_instances = inst
    return sample


def test_whole_batch_losses_refuse_chunks_and_larger_batches():
    with pytest.raises(
        ValueError,
        match=r"\['loss_focal', 'loss_dice'\] are not means over "
        r'masks.*loss_chunk_size=8',
    ):
        _loss_model(PAPER_LOSSES, 8)
    model = _loss_model(PAPER_LOSSES, None)
    assert model.whole_batch_losses == ['loss_focal', 'loss_dice']
    images = torch.randn(2, 3, 64, 64)
    with pytest.raises(ValueError, match=r'batch_size=2; choose batch_size=1'):
        model.loss(images, [_mask_sample(3, 0), _mask_sample(2, 1)])
    losses = model.loss(images[:1], [_mask_sample(5, 0)])
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert math.isfinite(total.item())
    assert any(p.grad is not None for n, p in model.named_parameters() if 'lora' in n)
    # ReSAM's formulas are means over masks: chunks of prompts give the same losses
    assert _loss_model(PAPER_RESAM_LOSSES, 8).whole_batch_losses == []
    samples = [_mask_sample(5, 0), _mask_sample(2, 1)]
    plain, chunked = (_loss_model(PAPER_RESAM_LOSSES, c).loss(images, samples) for c in (None, 3))
    for key in ('loss_focal', 'loss_dice', 'loss_iou'):
        assert torch.allclose(plain[key], chunked[key], rtol=1e-5, atol=1e-6), key


# ---------------------------------------------------------------- 5. the metric
def test_point_prompt_metric_with_overlapping_predictions():
    from mmpointsam.evaluation import PointPromptIoUMetric

    def box(y0, y1, x0, x1):
        m = np.zeros((4, 4), dtype=bool)
        m[y0:y1, x0:x1] = True
        return m

    # image 0: GT A rows 0-1 x cols 0-1 (4 px, class 0), GT B rows 0-1 x cols 2-3 (4 px, class 1)
    #   pred A rows 0-1 x cols 0-2 (6 px, spills onto B): I 4, U 6 -> IoU 2/3, F1 8/10 = .8
    #   pred B rows 0-1 x col 3 + (2, 3) (3 px): I 2, U 4 + 3 - 2 = 5 -> IoU .4, F1 4/7
    #   each prediction is scored against its own instance only: A's spill costs B nothing
    # image 1: GT C one pixel (class 0), empty prediction -> IoU 0, F1 0
    pred_b = box(0, 2, 3, 4)
    pred_b[2, 3] = True
    samples = [
        dict(
            img_id=0,
            ori_shape=(4, 4),
            gt_instances=dict(
                masks=np.stack([box(0, 2, 0, 2), box(0, 2, 2, 4)]).astype(np.uint8),
                labels=torch.tensor([0, 1]),
            ),
            pred_instances=dict(masks=torch.from_numpy(np.stack([box(0, 2, 0, 3), pred_b]))),
        ),
        dict(
            img_id=1,
            ori_shape=(4, 4),
            gt_instances=dict(
                masks=box(0, 1, 0, 1)[None].astype(np.uint8), labels=torch.tensor([0])
            ),
            pred_instances=dict(masks=torch.zeros(1, 4, 4, dtype=torch.bool)),
        ),
    ]
    metric = PointPromptIoUMetric()
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    # mIoU: mean over images of (2/3 + .4) / 2 = .53333 and 0 -> .26667
    # mF1: ((.8 + 4/7) / 2 = .68571, 0) -> .34286
    # instance mIoU (2/3 + .4 + 0) / 3 = .35556; instance mF1 (.8 + .57143 + 0) / 3 = .45714
    # class 0: IoU (2/3 + 0) / 2 = .33333, F1 (.8 + 0) / 2 = .4; class 1: IoU .4, F1 .57143
    assert out['mIoU'] == 0.2667 and out['mF1'] == 0.3429
    assert out['instance_mIoU'] == 0.3556 and out['instance_mF1'] == 0.4571
    assert out['IoU_class_0'] == 0.3333 and out['F1_class_0'] == 0.4
    assert out['IoU_class_1'] == 0.4 and out['F1_class_1'] == 0.5714
    assert out['num_images'] == 2 and out['num_instances'] == 3


# ---------------------------------------------------------------- all paper options together
def test_paper_options_train_step_runs_end_to_end():
    """One self-training step of the tiny model with every paper option (centred raw input, NPC
    'random', ReSAM nats / full resolution / box requery): finite losses, gradients reach LoRA,
    and the same seed gives the same losses."""
    init_default_scope('mmpointsam')
    img = 64
    cfg = dict(
        type='PointSAM',
        data_preprocessor=dict(
            type='SAMDataPreprocessor',
            img_size=img,
            mean=(0, 0, 0),
            std=(255, 255, 255),
            pad_mode='center',
        ),
        sam=dict(
            type='SAM', arch='tiny', img_size=img, init_cfg=None, lora=dict(r=2, first_block=0)
        ),
        self_training=dict(
            type='PointPromptSelfTraining',
            npc=dict(type='NegativePromptCalibration', iou_thr=0.1, negative_sampling='random'),
            refiner=dict(type='ConfidenceRefiner', **PAPER_RESAM),
            alignment_loss=dict(type='EmbeddingAlignmentLoss', dim=32, warmup_iters=0),
        ),
    )

    def step(seed):
        torch.manual_seed(0)
        model = MODELS.build(cfg).train()
        g = torch.Generator().manual_seed(1)
        raw = torch.randint(0, 256, (3, 30, 50), dtype=torch.uint8, generator=g)
        sample = _sample((30, 50), [[[12.0, 8.0], [14.0, 9.0]], [[15.0, 10.0], [40.0, 20.0]]])
        sample.gt_instances.point_labels = torch.tensor([[1, 0], [1, 1]])
        data = model.data_preprocessor(
            dict(inputs=dict(weak=[raw], strong=[raw.flip(-1)]), data_samples=[sample]), True
        )
        torch.manual_seed(seed)
        losses = model.loss(data['inputs'], data['data_samples'])
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        total.backward()
        assert any(p.grad is not None for n, p in model.named_parameters() if 'lora' in n)
        return {k: float(v) for k, v in losses.items()}

    first = step(7)
    assert {'loss_align'} <= set(first) and all(math.isfinite(v) for v in first.values())
    assert step(7) == first
