import pytest
import torch
from mmengine.registry import init_default_scope

from mmpointsam.models.segmentors.pointsam import Prompts
from mmpointsam.models.task_modules import InteractivePromptSimulation
from mmpointsam.registry import MODELS


def test_corrective_point_on_a_missed_pixel_is_positive():
    targets = torch.zeros(1, 4, 4)
    targets[0, 1:3, 1:3] = 1  # a 2 x 2 object
    logits = torch.full((1, 4, 4), -5.0)
    logits[0, 1:3, 1:3] = 5.0
    logits[0, 2, 1] = -5.0  # the one missed pixel: row 2, column 1
    points, labels = InteractivePromptSimulation.corrective_points(logits, targets, 0.0, 16)
    # low-res pixel (x=1, y=2) centre in a 16-pixel input frame: ((1 + 0.5) * 4, (2 + 0.5) * 4)
    assert points.tolist() == [[[6.0, 10.0]]]
    assert labels.tolist() == [[1]]


def test_corrective_point_on_a_false_pixel_is_negative_and_none_without_error():
    targets = torch.zeros(2, 4, 4)
    targets[:, 0, 0] = 1
    logits = torch.full((2, 4, 4), -5.0)
    logits[:, 0, 0] = 5.0
    logits[0, 3, 3] = 5.0  # instance 0: one false pixel at (x=3, y=3); instance 1: exact
    points, labels = InteractivePromptSimulation.corrective_points(logits, targets, 0.0, 8)
    assert points[0].tolist() == [[7.0, 7.0]] and labels[0].tolist() == [0]
    assert labels[1].tolist() == [-1]  # padding: SAM's "not a point"


def test_corrective_points_are_uniform_over_the_error_region():
    torch.manual_seed(0)
    targets = torch.zeros(1, 8, 8)
    targets[0, :, :4] = 1  # left half
    logits = torch.full((1, 8, 8), -1.0)  # everything missed: 32 error pixels
    seen = set()
    for _ in range(400):
        points, labels = InteractivePromptSimulation.corrective_points(logits, targets, 0.0, 8)
        assert labels.item() == 1 and points[0, 0, 0] < 4
        seen.add(tuple(points[0, 0].tolist()))
    assert len(seen) == 32  # 400 draws of 32 equally likely pixels miss one w.p. < 1e-4


def test_noisy_boxes_without_noise_are_the_mask_extent():
    sim = InteractivePromptSimulation(box_noise=0.0)
    targets = torch.zeros(1, 16, 16)
    targets[0, 2:6, 3:11] = 1  # rows 2-5, columns 3-10
    boxes = sim.noisy_boxes(targets, 64)  # 4 input pixels per low-res pixel
    assert boxes.tolist() == [[12.0, 8.0, 44.0, 24.0]]


def test_noisy_boxes_noise_is_capped_in_input_pixels():
    torch.manual_seed(0)
    sim = InteractivePromptSimulation(box_noise=10.0, max_box_noise=20.0)
    targets = torch.zeros(64, 64, 64)
    targets[:, 10:50, 10:50] = 1
    boxes = sim.noisy_boxes(targets, 256)  # exact box (40, 40, 200, 200); cap 20 * 256/1024 = 5
    exact = torch.tensor([40.0, 40.0, 200.0, 200.0])
    assert (boxes - exact).abs().max() <= 5.0 + 1e-4
    assert (boxes - exact).abs().max() > 4.0  # std 10 x side: nearly every corner hits the cap


@pytest.mark.parametrize(
    'bad',
    [
        dict(rounds=0),
        dict(box_prob=1.5),
        dict(rounds=3, mask_only_round=1),
        dict(rounds=3, mask_only_round=4),
    ],
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        InteractivePromptSimulation(**bad)


def _model(supervision):
    init_default_scope('mmpointsam')
    return MODELS.build(
        dict(
            type='PointSAM',
            sam=dict(
                type='SAM',
                arch='tiny',
                img_size=64,
                trainable=('image_encoder', 'prompt_encoder', 'mask_decoder'),
            ),
            data_preprocessor=dict(type='SAMDataPreprocessor', img_size=64),
            supervision=supervision,
        )
    )


def _box_and_mask_grads(model, seed):
    torch.manual_seed(seed)
    images = torch.randn(1, 3, 64, 64)
    targets = torch.zeros(3, 16, 16)
    targets[0, 2:8, 2:8] = targets[1, 8:14, 4:12] = targets[2, 1:4, 10:15] = 1
    prompts = Prompts(
        torch.tensor([[[20.0, 20.0]], [[30.0, 44.0]], [[48.0, 10.0]]]),
        torch.ones(3, 1, dtype=torch.long),
        torch.zeros(3, dtype=torch.long),
        [3],
    )
    model.zero_grad()
    emb = model.sam.encode(images)
    if model.supervision is None:
        losses, _ = model.decode_losses(emb, prompts, targets)
    else:
        losses = model.supervision.loss(model, emb, prompts, targets)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    pe = model.sam.prompt_encoder
    box_grad = sum(
        float(pe.point_embeddings[i].weight.grad.abs().sum())
        for i in (2, 3)
        if pe.point_embeddings[i].weight.grad is not None
    )
    mask_grad = sum(
        float(p.grad.abs().sum()) for p in pe.mask_downscaling.parameters() if p.grad is not None
    )
    return losses, box_grad, mask_grad


def test_simulation_trains_the_box_and_mask_prompt_paths():
    # point-only supervision leaves the box-corner embeddings and the mask-prompt encoder
    # untrained: the reason ReSAM's box requery asks a path the proxy never trained
    _, box_grad, mask_grad = _box_and_mask_grads(_model(None), 0)
    assert box_grad == 0 and mask_grad == 0
    sim = dict(type='InteractivePromptSimulation', rounds=3, box_prob=1.0)
    losses, box_grad, mask_grad = _box_and_mask_grads(_model(sim), 0)
    assert box_grad > 0 and mask_grad > 0
    assert all(torch.isfinite(v) for v in losses.values())
    assert 0.0 <= float(losses['train_iou']) <= 1.0


def test_self_training_and_supervision_are_exclusive():
    init_default_scope('mmpointsam')
    with pytest.raises(ValueError, match='one of them'):
        MODELS.build(
            dict(
                type='PointSAM',
                sam=dict(type='SAM', arch='tiny', img_size=64),
                data_preprocessor=dict(type='SAMDataPreprocessor', img_size=64),
                self_training=dict(type='PointPromptSelfTraining'),
                supervision=dict(type='InteractivePromptSimulation'),
            )
        )


def test_an_object_without_a_low_res_cell_starts_from_its_points(monkeypatch):
    """box_prob=1, but a target with no cell above 0.5 has only a zero box: it must keep its
    click, not be prompted with an empty box."""
    model = _model(dict(type='InteractivePromptSimulation', rounds=1, box_prob=1.0))
    calls = []
    decode = model.sam.decode

    def spy(emb, batch_idx, points=None, labels=None, boxes=None, mask_inputs=None, **kw):
        calls.append((len(batch_idx), boxes is not None, labels.clone()))
        return decode(emb, batch_idx, points, labels, boxes=boxes, mask_inputs=mask_inputs, **kw)

    monkeypatch.setattr(model.sam, 'decode', spy)
    targets = torch.zeros(2, 16, 16)
    targets[0, 2:8, 2:8] = 1  # instance 1: empty at low res (a sub-cell object)
    prompts = Prompts(
        torch.tensor([[[20.0, 20.0]], [[50.0, 50.0]]]),
        torch.ones(2, 1, dtype=torch.long),
        torch.zeros(2, dtype=torch.long),
        [2],
    )
    emb = model.sam.encode(torch.randn(1, 3, 64, 64))
    model.supervision.loss(model, emb, prompts, targets)
    # one call with the box (instance 0, its click replaced by padding), one with the click
    assert [(n, box) for n, box, _ in calls] == [(1, True), (1, False)]
    assert calls[0][2].tolist() == [[-1]] and calls[1][2].tolist() == [[1]]
