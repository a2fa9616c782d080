import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from mmpointsam.evaluation import PointPromptIoUMetric
from mmpointsam.registry import METRICS

H = W = 10


def box_mask(y0, y1, x0, x1):
    """Bool (H, W) mask with rows y0..y1-1 and columns x0..x1-1 set."""
    m = np.zeros((H, W), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def make_sample(img_id, gt_list, pred_list, labels):
    gt = np.stack(gt_list).astype(np.uint8) if gt_list else np.zeros((0, H, W), np.uint8)
    pred = np.stack(pred_list) if pred_list else np.zeros((0, H, W), bool)
    return dict(
        img_id=img_id,
        ori_shape=(H, W),
        gt_instances=dict(
            masks=BitmapMasks(gt, H, W), labels=torch.tensor(labels, dtype=torch.long)
        ),
        pred_instances=dict(
            masks=torch.from_numpy(pred), labels=torch.tensor(labels, dtype=torch.long)
        ),
    )


def build_metric():
    metric = PointPromptIoUMetric()
    metric.dataset_meta = dict(classes=('a', 'b'))
    return metric


def two_image_samples():
    # Image 0, three instances:
    #   'a': 4x4 square (16 px) vs. the same square shifted 2 px right: I=8, U=24 -> IoU 1/3, F1 .5
    #   'b': perfect prediction -> 1, 1
    #   'a': empty prediction -> 0, 0
    sq = box_mask(2, 6, 2, 6)
    img0 = make_sample(
        0,
        gt_list=[sq, box_mask(7, 10, 0, 3), box_mask(0, 2, 7, 10)],
        pred_list=[box_mask(2, 6, 4, 8), box_mask(7, 10, 0, 3), np.zeros((H, W), bool)],
        labels=[0, 1, 0],
    )
    # Image 1, one 'b' instance: 4x4 GT, prediction its left half (8 px): I=8, U=16
    #   -> IoU 1/2, F1 2*8/(8+16) = 2/3
    img1 = make_sample(
        1, gt_list=[box_mask(0, 4, 0, 4)], pred_list=[box_mask(0, 4, 0, 2)], labels=[1]
    )
    return [img0, img1]


def test_registered():
    assert METRICS.get('PointPromptIoUMetric') is PointPromptIoUMetric
    assert PointPromptIoUMetric.default_prefix == 'sam'


def test_single_instance_cases():
    gt = box_mask(2, 6, 2, 6)
    cases = [
        (box_mask(2, 6, 4, 8), 1 / 3, 0.5),  # shifted by 2 px
        (gt.copy(), 1.0, 1.0),  # perfect
        (np.zeros((H, W), bool), 0.0, 0.0),  # empty prediction
    ]
    for pred, exp_iou, exp_f1 in cases:
        metric = build_metric()
        metric.process({}, [make_sample(0, [gt], [pred], [0])])
        res = metric.compute_metrics(metric.results)
        assert res['mIoU'] == pytest.approx(round(exp_iou, 4))
        assert res['mF1'] == pytest.approx(round(exp_f1, 4))
        assert res['instance_mIoU'] == pytest.approx(round(exp_iou, 4))
        assert res['IoU_a'] == pytest.approx(round(exp_iou, 4))
        assert res['F1_a'] == pytest.approx(round(exp_f1, 4))
        assert 'IoU_b' not in res
        assert res['num_images'] == 1 and res['num_instances'] == 1


def test_image_vs_instance_averaging_and_per_class():
    metric = build_metric()
    samples = two_image_samples()
    # An image without instances contributes nothing.
    samples.append(make_sample(2, [], [], []))
    metric.process({}, samples[:1])
    metric.process({}, samples[1:])
    res = metric.compute_metrics(metric.results)

    # Per-image means: image 0 IoU (1/3 + 1 + 0)/3 = 4/9, F1 (1/2 + 1 + 0)/3 = 1/2;
    # image 1 IoU 1/2, F1 2/3.
    assert res['mIoU'] == pytest.approx(round((4 / 9 + 1 / 2) / 2, 4))  # 17/36
    assert res['mF1'] == pytest.approx(round((1 / 2 + 2 / 3) / 2, 4))  # 7/12
    # Instance means over the 4 instances.
    assert res['instance_mIoU'] == pytest.approx(round((1 / 3 + 1 + 0 + 1 / 2) / 4, 4))  # 11/24
    assert res['instance_mF1'] == pytest.approx(round((1 / 2 + 1 + 0 + 2 / 3) / 4, 4))  # 13/24
    assert res['mIoU'] != res['instance_mIoU']
    # Per class: 'a' = instances (1/3, 0), 'b' = instances (1, 1/2).
    assert res['IoU_a'] == pytest.approx(round((1 / 3 + 0) / 2, 4))
    assert res['F1_a'] == pytest.approx(round((1 / 2 + 0) / 2, 4))
    assert res['IoU_b'] == pytest.approx(round((1 + 1 / 2) / 2, 4))
    assert res['F1_b'] == pytest.approx(round((1 + 2 / 3) / 2, 4))
    assert res['num_images'] == 2
    assert res['num_instances'] == 4
    for key, value in res.items():
        if not key.startswith('num_'):
            assert 0.0 <= value <= 1.0 and value == round(value, 4)

    # Only small per-image arrays are stored.
    for r in metric.results:
        assert set(r) == {'img_id', 'labels', 'ious', 'f1s'}
        assert all(isinstance(r[k], np.ndarray) for k in ('labels', 'ious', 'f1s'))


def test_evaluate_adds_prefix():
    metric = build_metric()
    metric.process({}, two_image_samples())
    res = metric.evaluate(size=2)
    assert res['sam/mIoU'] == pytest.approx(round(17 / 36, 4))
    assert res['sam/IoU_b'] == pytest.approx(0.75)
    assert metric.results == []


def test_through_evaluator_with_det_data_samples():
    # The Evaluator turns DetDataSample into dicts (to_dict) before calling process().
    data_samples = []
    for sample in two_image_samples():
        gt, pred = sample['gt_instances'], sample['pred_instances']
        data_sample = DetDataSample(metainfo=dict(img_id=sample['img_id'], ori_shape=(H, W)))
        data_sample.gt_instances = InstanceData(masks=gt['masks'], labels=gt['labels'])
        data_sample.pred_instances = InstanceData(masks=pred['masks'], labels=pred['labels'])
        data_samples.append(data_sample)
    evaluator = Evaluator(PointPromptIoUMetric())
    evaluator.dataset_meta = dict(classes=('a', 'b'))
    evaluator.process(data_samples=data_samples, data_batch={})
    res = evaluator.evaluate(2)
    assert res['sam/mIoU'] == pytest.approx(round(17 / 36, 4))
    assert res['sam/instance_mF1'] == pytest.approx(round(13 / 24, 4))
    assert res['sam/F1_a'] == pytest.approx(0.25)
    assert res['sam/num_instances'] == 4


def test_no_instances():
    metric = build_metric()
    metric.process({}, [make_sample(0, [], [], [])])
    res = metric.compute_metrics(metric.results)
    assert res['num_images'] == 0 and res['num_instances'] == 0
    assert res['mIoU'] == 0.0


def test_other_mask_types_and_fallback_class_names():
    gt = np.stack([box_mask(2, 6, 2, 6), box_mask(0, 4, 0, 4)])
    pred = np.stack([box_mask(2, 6, 4, 8), box_mask(0, 4, 0, 2)])
    sample = dict(
        img_id=5,
        ori_shape=(H, W),
        gt_instances=dict(masks=torch.from_numpy(gt).to(torch.uint8), labels=torch.tensor([0, 3])),
        pred_instances=dict(masks=pred.astype(np.uint8), labels=np.array([0, 3])),
    )
    metric = PointPromptIoUMetric()  # no dataset_meta: names fall back to class_<i>
    metric.process({}, [sample])
    res = metric.compute_metrics(metric.results)
    assert res['IoU_class_0'] == pytest.approx(round(1 / 3, 4))
    assert res['F1_class_3'] == pytest.approx(round(2 / 3, 4))
    assert res['mIoU'] == pytest.approx(round((1 / 3 + 1 / 2) / 2, 4))


def test_count_mismatch_raises():
    metric = build_metric()
    sample = make_sample(
        42,
        gt_list=[box_mask(2, 6, 2, 6), box_mask(0, 2, 0, 2)],
        pred_list=[box_mask(2, 6, 2, 6)],
        labels=[0, 1],
    )
    sample['pred_instances']['labels'] = torch.tensor([0])
    with pytest.raises(ValueError, match='42'):
        metric.process({}, [sample])
