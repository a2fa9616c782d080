"""le90 geometry: masks -> rotated boxes, corners, rasterising, exact rotated IoU."""

import math

import numpy as np
import pytest
import torch

from mmpointsam.structures import (
    corners_to_rbox,
    mask_to_rbox,
    masks_to_rboxes,
    norm_le90,
    points_to_rbox,
    rbox_iou,
    rbox_to_corners,
    rbox_to_hbox,
    rbox_to_mask,
)


def assert_le90(rbox):
    assert rbox[2] >= rbox[3]
    assert -math.pi / 2 <= rbox[4] < math.pi / 2


def angle_diff(a, b):
    """Difference of two box angles modulo pi (a box is the same turned by pi)."""
    d = (a - b) % math.pi
    return min(d, math.pi - d)


def test_axis_aligned_rectangles_are_exact():
    mask = np.zeros((50, 60), bool)
    mask[10:20, 5:45] = True  # 40 wide, 10 high, pixel corners x 5..45, y 10..20
    assert np.allclose(mask_to_rbox(mask), [25, 15, 40, 10, 0])
    tall = np.zeros((50, 60), bool)
    tall[5:45, 10:20] = True  # the long side is vertical: le90 angle -pi/2
    assert np.allclose(mask_to_rbox(tall), [15, 25, 40, 10, -math.pi / 2])


def test_single_pixel_is_a_unit_box_at_the_pixel_centre():
    mask = np.zeros((10, 10), bool)
    mask[3, 4] = True
    assert np.allclose(mask_to_rbox(mask), [4.5, 3.5, 1, 1, 0])


@pytest.mark.parametrize('deg', [0, 10, 30, 45, 60, 80, 89, -10, -30, -60, -89, 120, -135])
@pytest.mark.parametrize('swap', [False, True])
def test_rotated_rectangles_at_known_angles_come_back_le90(deg, swap):
    t = math.radians(deg)
    truth = np.array([100.3, 90.7, 90.0, 30.0, t])
    given = truth.copy()
    if swap:  # the same box given with w < h
        given[2:] = [30.0, 90.0, t + math.pi / 2]
    mask = rbox_to_mask(given, (200, 220))
    rbox = mask_to_rbox(mask)
    assert_le90(rbox)
    expected = norm_le90(truth)
    assert np.allclose(rbox[:2], expected[:2], atol=0.5)
    # sides within the pixel grid (the old corner-hull fit was ~1.2 px longer per side)
    assert abs(rbox[2] - expected[2]) <= 1.0 and abs(rbox[3] - expected[3]) <= 1.0
    assert angle_diff(rbox[4], expected[4]) < math.radians(1.0)
    assert rbox_iou(rbox[None], truth[None], aligned=True)[0] > 0.97


def _random_rectangles(num, seed):
    """Random rectangles (sides 6-200 px, half of them 6-30 px, any angle) and their masks of
    the pixels whose centre they cover."""
    rng = np.random.default_rng(seed)
    for i in range(num):
        w, h = rng.uniform(6, 30, 2) if i % 2 else rng.uniform(6, 200, 2)
        size = int(math.hypot(w, h)) + 6
        truth = np.array(
            [
                size / 2 + rng.uniform(-1, 1),
                size / 2 + rng.uniform(-1, 1),
                w,
                h,
                rng.uniform(-math.pi, math.pi),
            ]
        )
        yield norm_le90(truth), rbox_to_mask(truth, (size, size))


def test_rasterised_rectangles_come_back_as_themselves():
    """400 random rectangles, rasterised by pixel-centre inclusion, fitted back: unbiased sides,
    centres within half a pixel, angles within a degree wherever the pixels fix the angle."""
    rows = []
    for truth, mask in _random_rectangles(400, seed=1):
        rbox = mask_to_rbox(mask)
        assert_le90(rbox)
        rows.append(
            [
                truth[2],
                truth[3],
                rbox[2] - truth[2],
                rbox[3] - truth[3],
                math.degrees(angle_diff(rbox[4], truth[4])),
                np.hypot(*(rbox[:2] - truth[:2])),
                rbox_iou(rbox[None], truth[None], aligned=True)[0],
                (rbox_to_mask(rbox, mask.shape) != mask).sum() / mask.sum(),
            ]
        )
    w, h, dw, dh, dang, dctr, iou, mismatch = np.array(rows).T
    assert dctr.max() <= 0.5
    # no bias: the corner-hull fit was +1.2 px on both sides on average here
    assert abs(dw.mean()) < 0.05 and abs(dh.mean()) < 0.05
    assert np.abs(dw).mean() < 0.15 and np.abs(dh).mean() < 0.15
    # a side's two edges are each within half a pixel step of the truth
    assert np.abs(dw).max() <= 1.0 and np.abs(dh).max() <= 1.2
    elongated = w / h >= 1.2
    # the angle is fixed by the pixels for elongated boxes; near-squares compare as polygons
    assert (dang[elongated & (h >= 20)] < 1.0).mean() >= 0.99
    assert np.percentile(dang[elongated], 95) < 1.0
    # near 45 degrees and for small boxes the pixels admit rectangles a degree or two apart
    # (several of the worst ones rasterise to the very same mask)
    assert (iou[h >= 8] >= 0.95).mean() >= 0.98 and iou[h >= 8].min() >= 0.9
    assert (iou[h >= 20] >= 0.95).mean() >= 0.99
    assert mismatch.mean() < 0.005  # the fitted boxes rasterise back to their masks


def test_fit_grows_the_centre_hull_by_half_the_gap_to_the_background():
    """An axis-aligned 3 x 2 block: centres span 2 x 1, background centres one step further;
    the sides lie halfway, i.e. on the pixel corners."""
    mask = np.zeros((6, 8), bool)
    mask[2:4, 3:6] = True
    assert np.allclose(mask_to_rbox(mask), [4.5, 3.0, 3.0, 2.0, 0.0])
    # a one-pixel-wide diagonal line: the centres span 11 steps of sqrt(2), the next background
    # centres lie a step further along it and sqrt(1/2) across it; area = its 12 pixels
    rbox = mask_to_rbox(np.eye(12, dtype=bool))
    assert np.allclose(rbox[:2], [6, 6])
    assert angle_diff(rbox[4], math.pi / 4) < 1e-6
    assert rbox[2:4] == pytest.approx([12 * math.sqrt(2), math.sqrt(0.5)])


def test_norm_le90_range_and_swap():
    boxes = np.array(
        [
            [0, 0, 2, 5, 0.3],
            [0, 0, 5, 2, math.pi / 2],
            [0, 0, 5, 2, -math.pi / 2],
            [0, 0, 5, 2, 3 * math.pi],
            [0, 0, 5, 2, -1e-17],
        ]
    )
    out = norm_le90(boxes)
    for box in out:
        assert_le90(box)
    assert np.allclose(out[0], [0, 0, 5, 2, 0.3 + math.pi / 2 - math.pi])
    assert np.allclose(out[1, 4], -math.pi / 2) and np.allclose(out[2, 4], -math.pi / 2)
    # every parametrisation is the same box
    assert np.allclose(rbox_iou(boxes, out, aligned=True), 1)


def test_corners_round_trip_and_hbox():
    boxes = norm_le90(np.array([[30, 40, 20, 8, 0.4], [5, 6, 3, 2, -1.2], [0, 0, 10, 1, -1.5]]))
    corners = rbox_to_corners(boxes)
    for box, c in zip(boxes, corners):
        back = corners_to_rbox(c)
        assert np.allclose(back[:4], box[:4]) and angle_diff(back[4], box[4]) < 1e-9
        # cv2.minAreaRect finds the same rectangle whatever its own angle convention
        assert rbox_iou(points_to_rbox(c)[None], box[None], aligned=True)[0] > 0.9999
    hbox = rbox_to_hbox(np.array([10, 20, 4, 2, 0]))
    assert np.allclose(hbox, [8, 19, 4, 2])


def test_largest_component_or_all_pixels():
    mask = np.zeros((40, 40), bool)
    mask[5:15, 5:25] = True  # 20 x 10
    mask[30:32, 30:32] = True  # a stray 2 x 2 blob
    assert np.allclose(mask_to_rbox(mask, 'largest'), [15, 10, 20, 10, 0])
    whole = mask_to_rbox(mask, 'all')
    assert whole[2] >= 27  # spans both blobs
    rboxes, valid = masks_to_rboxes(np.stack([mask, np.zeros_like(mask)]))
    assert valid.tolist() == [True, False] and not rboxes[1].any()
    assert mask_to_rbox(np.zeros((4, 4), bool)) is None
    with pytest.raises(ValueError, match='unknown mask -> rbox method'):
        mask_to_rbox(mask, 'biggest')


def test_rbox_iou_exact_values():
    a = np.array([[0, 0, 4, 2, 0.0]])
    b = np.array(
        [
            [0, 0, 2, 4, math.pi / 2],
            [1, 0, 4, 2, 0],
            [0, 0, 4, 2, math.pi / 4],
            [100, 0, 4, 2, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    iou = rbox_iou(a, b)[0]
    assert np.allclose(iou[:2], [1.0, 0.6])
    assert 0 < iou[2] < 1 and iou[3] == 0 and iou[4] == 0
    assert rbox_iou(np.zeros((0, 5)), b).shape == (0, 5)


def test_collinear_edges_exact_where_mmcv_is_not():
    """Same angle and width, heights 280 and 282: IoU 280/282. mmcv 2.0.1's CPU kernels gave 0.33
    here (float32, collinear edges), which is why label IoUs use the exact polygon IoU."""
    a = np.array([[945.0, 422.0, 190.0, 280.0, 1.15]])
    b = np.array([[945.0, 422.0, 190.0, 282.0, 1.15]])
    assert np.isclose(rbox_iou(a, b)[0, 0], 280 / 282)


def test_mmcv_quadri_iou_is_parametrisation_free_on_cpu():
    """The same box in another parametrisation: mmcv's box_iou_quadri on corners gives 1, while
    box_iou_rotated on the raw parameters may not (which is why le90 is fed to MMRotate's mAP)."""
    from mmcv.ops import box_iou_quadri

    box = np.array([[69.0, 293.0, 78.0, 23.0, 1.0631383423784326]])
    other = np.array([[69.0, 293.0, 23.0, 78.0, 1.0631383423784326 + math.pi / 2]])
    quads = [torch.from_numpy(rbox_to_corners(x).reshape(1, 8)).float() for x in (box, other)]
    assert box_iou_quadri(*quads).item() == pytest.approx(1.0, abs=1e-4)
    assert rbox_iou(box, other)[0, 0] == pytest.approx(1.0)
