"""le90 geometry: masks -> rotated boxes, corners, rasterising, exact rotated IoU."""
import math

import numpy as np
import pytest
import torch

from mmpointsam.structures import (corners_to_rbox, mask_to_rbox, masks_to_rboxes, norm_le90,
                                   points_to_rbox, rbox_iou, rbox_to_corners, rbox_to_hbox,
                                   rbox_to_mask)


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
    assert np.allclose(rbox[:2], expected[:2], atol=0.75)
    # the pixel-corner hull is up to ~1.4 px longer per side than the sampled rectangle
    assert 0 <= rbox[2] - expected[2] <= 2.0 and 0 <= rbox[3] - expected[3] <= 2.0
    assert angle_diff(rbox[4], expected[4]) < math.radians(1.0)
    assert rbox_iou(rbox[None], truth[None], aligned=True)[0] > 0.9


def test_norm_le90_range_and_swap():
    boxes = np.array([[0, 0, 2, 5, 0.3], [0, 0, 5, 2, math.pi / 2], [0, 0, 5, 2, -math.pi / 2],
                      [0, 0, 5, 2, 3 * math.pi], [0, 0, 5, 2, -1e-17]])
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
    b = np.array([[0, 0, 2, 4, math.pi / 2], [1, 0, 4, 2, 0], [0, 0, 4, 2, math.pi / 4],
                  [100, 0, 4, 2, 0], [0, 0, 0, 0, 0]])
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
