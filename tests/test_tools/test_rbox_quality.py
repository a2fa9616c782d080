"""Ground-truth rotated boxes, label quality (rotated IoU, MMRotate mAP), and the CLI chain."""

import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mmpointsam.apis import gt_rboxes
from mmpointsam.evaluation.functional import rbox_label_quality, rotated_map
from mmpointsam.fileio import RBoxLabelWriter, load_rbox_coco, rbox_to_coco_ann
from mmpointsam.structures import rbox_iou

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
GT_JSON = osp.join(DATA, 'annotations', 'val.json')


@pytest.fixture(scope='module')
def gt(tmp_path_factory):
    out = tmp_path_factory.mktemp('gt')
    return (
        gt_rboxes(GT_JSON, str(out / 'mask'), progress=False)['json'],
        gt_rboxes(GT_JSON, str(out / 'polygon'), source='polygon', progress=False)['json'],
    )


def rewrite(src, dst, edit):
    """Copy a rotated-box json, passing each image's boxes through ``edit``."""
    labels = load_rbox_coco(src)
    writer = RBoxLabelWriter(dst, labels['images'], labels['categories'], settings={})
    for img in labels['images']:
        b = labels['boxes'][img['id']]
        anns = [
            rbox_to_coco_ann(r, i, img['id'], c, score=s)
            for r, c, s, i in edit(b['rboxes'], b['category_ids'], b['scores'], b['ids'])
        ]
        writer.write_image(img, anns)
    return writer.finalize()['json']


def test_ground_truth_against_itself_is_perfect(gt):
    result = rbox_label_quality(gt[0], gt[0])
    overall = result['rows'][-1]
    assert result['pairing'] == 'annotation id'
    assert overall['gts'] == 21 and overall['missing'] == 0
    assert overall['mIoU'] == pytest.approx(1.0) and overall['IoU>=0.75'] == 1.0
    assert result['mAP'] == pytest.approx(1.0)


def test_mask_path_matches_polygon_geometry(gt):
    """GT masks through mask -> rbox vs the min-area rectangles of the GT polygons (MMRotate's
    ConvertMask2BoxType geometry): near-perfect, as the two frames agree."""
    result = rbox_label_quality(gt[0], gt[1])
    assert result['rows'][-1]['mIoU'] > 0.85 and result['rows'][-1]['IoU>=0.5'] == 1.0
    assert result['mAP'] == pytest.approx(1.0)


def test_shifted_and_missing_labels(gt, tmp_path):
    def edit(rboxes, cats, scores, ids):
        for k, (r, c, s, i) in enumerate(zip(rboxes, cats, scores, ids)):
            if k == 0:
                continue  # a missing label (e.g. an empty mask)
            r = r.copy()
            if k == 1:  # moved by half its width along its w side: IoU 1/3
                r[:2] += r[2] / 2 * np.array([math.cos(r[4]), math.sin(r[4])])
            yield r, c, s, i

    labels = rewrite(gt[0], str(tmp_path / 'edited'), edit)
    result = rbox_label_quality(labels, gt[0])
    overall = result['rows'][-1]
    assert overall['missing'] == 4  # the first box of each of the 4 images
    assert overall['labels'] == 17
    assert overall['mIoU'] == pytest.approx((21 - 8 + 4 / 3) / 21, abs=1e-4)
    assert overall['IoU>=0.5'] == pytest.approx(13 / 21)
    assert 0 < result['mAP'] < 1


def test_labels_without_common_ids_are_matched_by_iou(gt, tmp_path):
    def edit(rboxes, cats, scores, ids):
        for r, c, s, i in zip(rboxes, cats, scores, ids):
            yield r, c, s, i + 100000

    labels = rewrite(gt[0], str(tmp_path / 'renumbered'), edit)
    result = rbox_label_quality(labels, gt[0])
    assert result['pairing'] == 'one-to-one by IoU'
    assert result['rows'][-1]['mIoU'] == pytest.approx(1.0, abs=1e-4)


def test_rotated_map_is_free_of_parametrisation():
    """A detection equal to its GT box but given as (h, w, angle + pi/2): mmcv's CPU
    box_iou_rotated alone scores 0.33 here; le90 on both sides gives AP 1."""
    det = np.array([[69.0, 293.0, 23.0, 78.0, 1.0631383423784326 + math.pi / 2, 0.9]])
    gt_box = np.array([[69.0, 293.0, 78.0, 23.0, 1.0631383423784326]])
    assert rbox_iou(det[:, :5], gt_box)[0, 0] == pytest.approx(1.0)
    mean_ap, _ = rotated_map([[det]], [dict(bboxes=gt_box, labels=np.array([0]))])
    assert mean_ap == pytest.approx(1.0)


def test_command_line_chain(tmp_path):
    """sample_point_labels.py -> gt_rboxes.py -> point2rbox.py (tiny random SAM) ->
    rbox_quality.py, from the repository root without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}

    def run(*cmd):
        proc = subprocess.run(
            [sys.executable, *cmd], cwd=REPO, capture_output=True, text=True, env=env, timeout=600
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    points, gt_dir, out = tmp_path / 'points.json', tmp_path / 'gt', tmp_path / 'pseudo'
    run('tools/dataset_converters/sample_point_labels.py', GT_JSON, str(points))
    run('tools/dataset_converters/gt_rboxes.py', GT_JSON, str(gt_dir))
    log = run(
        'tools/point2rbox.py',
        'configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py',
        str(points),
        osp.join(DATA, 'images'),
        str(out),
        '--sam-checkpoint',
        'none',
        '--cfg-options',
        'model.sam.arch=tiny',
        'model.sam.img_size=256',
        'model.data_preprocessor.img_size=256',
    )
    assert 'RANDOM' in log and 'img/s' in log and '4 images converted' in log
    log = run(
        'tools/analysis_tools/rbox_quality.py',
        str(out / 'labels.json'),
        str(gt_dir / 'labels.json'),
    )
    assert '| all ' in log and 'AP50' in log
    with open(out / 'labels.json') as f:
        assert len(json.load(f)['images']) == 4


def test_rotated_map_uses_the_exact_iou():
    """A vehicle of the NWPU val split, its GT mask through mask -> rbox vs the rectangle of its
    polygon: IoU 0.90, which mmcv 2.0.1's CPU box_iou_rotated scores 0.29 (a miss at 0.5)."""
    det = np.array([[928.5, 254.5, 49.0, 23.0, -1.5707963267948966, 1.0]])
    gt_box = np.array([[929.5, 254.5, 48.08369544866531, 23.021941012868524, -1.5291718306827473]])
    assert rbox_iou(det[:, :5], gt_box)[0, 0] == pytest.approx(0.90098, abs=1e-4)
    mean_ap, _ = rotated_map([[det]], [dict(bboxes=gt_box, labels=np.array([0]))])
    assert mean_ap == pytest.approx(1.0)


def test_quality_per_class_and_object_size(tmp_path):
    """Known boxes: a small one labelled exactly, a medium one shifted by half its width (IoU
    1/3), a large one without a label, and a small one of another class labelled exactly."""
    img = dict(id=1, file_name='a.png', width=1000, height=1000)
    cats = [dict(id=1, name='ship'), dict(id=2, name='plane')]
    gt_boxes = [
        (np.array([100.0, 100, 20, 20, 0]), 1, 11),  # 400 px^2: small
        (np.array([300.0, 300, 50, 50, 0.3]), 1, 12),  # 2500: medium
        (np.array([600.0, 600, 200, 100, 0]), 1, 13),  # 20000: large
        (np.array([800.0, 100, 30, 30, 0]), 2, 14),
    ]  # 900: small
    writer = RBoxLabelWriter(str(tmp_path / 'gt'), [img], cats, settings={})
    writer.write_image(img, [rbox_to_coco_ann(r, i, 1, c) for r, c, i in gt_boxes])
    gt_json = writer.finalize()['json']
    moved = gt_boxes[1][0].copy()
    moved[:2] += 25 * np.array([math.cos(0.3), math.sin(0.3)])
    labels = [(gt_boxes[0][0], 1, 11), (moved, 1, 12), (gt_boxes[3][0], 2, 14)]
    writer = RBoxLabelWriter(str(tmp_path / 'pseudo'), [img], cats, settings={})
    writer.write_image(img, [rbox_to_coco_ann(r, i, 1, c, score=0.9) for r, c, i in labels])
    result = rbox_label_quality(writer.finalize()['json'], gt_json)
    rows = {(r['class'], r['size']): r for r in result['size_rows']}
    assert set(rows) == {
        ('ship', 'small'),
        ('ship', 'medium'),
        ('ship', 'large'),
        ('plane', 'small'),
        ('all', 'small'),
        ('all', 'medium'),
        ('all', 'large'),
    }
    assert rows['ship', 'small']['mIoU'] == pytest.approx(1.0)
    assert rows['ship', 'medium']['mIoU'] == pytest.approx(1 / 3, abs=1e-4)  # corners rounded
    assert rows['ship', 'medium']['IoU>=0.5'] == 0.0
    assert rows['ship', 'large']['missing'] == 1 and rows['ship', 'large']['mIoU'] == 0.0
    assert rows['all', 'small']['gts'] == 2 and rows['all', 'small']['mIoU'] == pytest.approx(1)
    from mmpointsam.evaluation.functional import format_size_table, size_bucket

    assert size_bucket([1023.9, 1024, 9215.9, 9216]).tolist() == [
        'small',
        'medium',
        'medium',
        'large',
    ]
    assert 'medium' in format_size_table(result)
