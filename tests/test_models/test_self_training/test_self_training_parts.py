import math

import numpy as np
import pytest
import torch

from mmpointsam.models.sam import build_sam
from mmpointsam.models.self_training import (
    ConfidenceRefiner,
    EmbeddingAlignmentLoss,
    PrototypeMemoryBank,
    PrototypeRegularizer,
    binary_entropy,
    finch_prototypes,
    masks_to_boxes,
    prototype_matching_loss,
    sample_point_features,
)


def test_hungarian_loss_known_cost_and_gradient():
    predicted = torch.tensor([[1.0, 0.0], [1.0, 1.0]], requires_grad=True)
    targets = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    loss, rows, cols = prototype_matching_loss(predicted, targets)
    # p0 matches t1 (cost 0), p1 matches t0 (cost 1 - cos 45deg)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert math.isclose(loss.item(), (1 - math.sqrt(0.5)) / 2, rel_tol=1e-6)
    loss.backward()
    assert predicted.grad.abs().sum() > 0


def test_memory_bank_is_fifo_and_bounded():
    bank = PrototypeMemoryBank(size=3, dim=1)
    bank.push(torch.tensor([[1.0], [2.0]]))
    assert len(bank) == 2 and not bank.full
    bank.push(torch.tensor([[3.0], [4.0], [5.0]]))
    assert len(bank) == 3 and bank.full
    assert sorted(bank.valid()[0].flatten().tolist()) == [3.0, 4.0, 5.0]
    bank.push(torch.tensor([[6.0]]))  # overwrites the oldest (3)
    assert sorted(bank.valid()[0].flatten().tolist()) == [4.0, 5.0, 6.0]
    assert bank.features.shape == (3, 1)  # fixed shape: checkpoints resume exactly


def test_finch_keeps_coarsest_nontrivial_partition():
    from finch import FINCH

    rng = np.random.default_rng(0)
    centres = np.array([[5.0, 0, 0], [0, 5.0, 0]])
    feats = np.concatenate([c + 0.05 * rng.standard_normal((20, 3)) for c in centres])
    means, labels = finch_prototypes(feats)
    _, num_clust, _ = FINCH(feats.astype(np.float32), distance='cosine', verbose=False)
    assert len(means) == [n for n in num_clust if n > 1][-1]
    for c in range(len(means)):
        members = labels == c
        assert np.allclose(means[c], feats[members].mean(0), atol=1e-5)
        # no cluster mixes the two well separated groups
        assert not (members[:20].any() and members[20:].any())


def test_prototype_loss_trains_lora():
    sam = build_sam(dict(arch='tiny', img_size=64, lora=dict(r=2, first_block=0)))
    reg = PrototypeRegularizer(bank_size=12, cluster_interval=2, dim=32)
    reg.set_targets(torch.randn(3, 32))
    images = torch.randn(2, 3, 64, 64)
    points = torch.rand(6, 2) * 64
    batch_idx = torch.tensor([0, 0, 0, 1, 1, 1])
    losses = []
    for _ in range(3):  # fill the bank (6 features per step) and cluster it
        feats = sample_point_features(sam.encode(images), points, batch_idx, 64)
        losses.append(reg(feats))
    assert losses[0].item() == 0.0 and int(reg.num_pred) > 0
    sam.zero_grad()
    loss = reg(sample_point_features(sam.encode(images), points, batch_idx, 64))
    assert loss.item() > 0
    loss.backward()
    grads = [p.grad for n, p in sam.named_parameters() if 'lora_B' in n]
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)


def test_sample_point_features_reads_the_right_cell():
    emb = torch.zeros(1, 2, 4, 4)
    emb[0, :, 1, 2] = torch.tensor([3.0, 7.0])
    # cell (row 1, col 2) covers input pixels y 16..31, x 32..47 of a 64 frame
    out = sample_point_features(emb, torch.tensor([[39.5, 23.5]]), torch.tensor([0]), 64)
    assert torch.allclose(out, torch.tensor([[3.0, 7.0]]))


def _logit(p):
    return math.log(p / (1 - p))


def test_refinement_keeps_confident_and_drops_contested_pixels():
    refiner = ConfidenceRefiner(threshold=0.25)
    logits = torch.full((2, 4, 4), _logit(0.01))
    logits[0, 0, :3] = _logit(0.99)  # confident
    logits[0, 1, 0] = _logit(0.6)  # uncertain: 0.6 * (1 - H(0.6)) = 0.017
    logits[1, 0, 2:] = _logit(0.99)  # (0, 2) claimed by both instances
    keep = refiner.refine(logits, torch.tensor([0, 0]))
    expected0 = torch.zeros(4, 4, dtype=torch.bool)
    expected0[0, :2] = True
    expected1 = torch.zeros(4, 4, dtype=torch.bool)
    expected1[0, 3] = True
    assert torch.equal(keep[0], expected0) and torch.equal(keep[1], expected1)
    # instances of different images never contest pixels
    keep_sep = refiner.refine(logits, torch.tensor([0, 1]))
    assert keep_sep[0, 0, 2] and keep_sep[1, 0, 2]
    assert math.isclose(binary_entropy(torch.tensor(0.5)).item(), 1.0, rel_tol=1e-5)


def test_masks_to_boxes_pixel_edges():
    m = torch.zeros(2, 5, 6, dtype=torch.bool)
    m[0, 1:3, 2:5] = True
    boxes, valid = masks_to_boxes(m)
    assert boxes[0].tolist() == [2, 1, 5, 3] and valid.tolist() == [True, False]


def test_requery_with_boxes_and_empty_region_fallback():
    sam = build_sam(dict(arch='tiny', img_size=64)).eval()
    emb = torch.randn(1, 32, 4, 4)
    logits = torch.full((2, 16, 16), -5.0)
    logits[0, 2:6, 3:9] = 5.0  # confident region -> box (3, 2, 9, 6) * 4
    logits[1, 10:12, 10:12] = 0.3  # not confident: no refined region
    points = torch.tensor([[[20.0, 14.0]], [[44.0, 44.0]]])
    labels = torch.ones(2, 1, dtype=torch.long)
    out, boxes, refined = ConfidenceRefiner(0.25)(
        sam, emb, torch.zeros(2, dtype=torch.long), points, labels, logits
    )
    assert refined.tolist() == [True, False]
    assert boxes[0].tolist() == [12.0, 8.0, 36.0, 24.0]
    expected, _ = sam.decode(
        emb, torch.zeros(1, dtype=torch.long), points[:1], labels[:1], boxes=boxes[:1]
    )
    assert torch.allclose(out[0], expected[0], atol=1e-5)
    assert torch.equal(out[1], logits[1])  # keeps its unrefined mask
    assert boxes[1].tolist() == [40.0, 40.0, 48.0, 48.0]  # aligned with its own prediction


def test_alignment_loss_is_differentiable_and_queues():
    align = EmbeddingAlignmentLoss(
        queue_size=4, temperature=0.05, loss_weight=0.5, warmup_iters=0, dim=8
    )
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 8, 4, 4)
    boxes = torch.tensor([[0.0, 0.0, 32.0, 32.0], [16.0, 16.0, 64.0, 64.0], [0.0, 0.0, 64.0, 64.0]])
    batch_idx = torch.tensor([0, 1, 1])
    loss = align(student, teacher, boxes, batch_idx, 64)
    assert loss.item() > 0
    loss.backward()
    assert student.grad.abs().sum() > 0
    assert int(align.count) == 3
    align(student.detach(), teacher, boxes, batch_idx, 64)
    assert int(align.count) == 6 and align.queue.abs().sum(1).gt(0).all()


def test_alignment_beta_warmup():
    align = EmbeddingAlignmentLoss(loss_weight=0.2, warmup_iters=10, dim=4)
    align.steps.fill_(5)
    assert math.isclose(align.beta(), 0.1)
    align.steps.fill_(50)
    assert math.isclose(align.beta(), 0.2)


def test_frozen_teacher_keeps_the_starting_weights():
    """The frozen (and any averaged) teacher holds only the trained weights (LoRA here) and runs
    the student's module with them in place; the student gets its own back afterwards."""
    from mmpointsam.models.self_training import FrozenTeacher

    sam = build_sam(dict(arch='tiny', img_size=64, lora=dict(r=2, targets=('q', 'v'))))
    trained = [n for n, p in sam.named_parameters() if p.requires_grad]
    assert trained and all('lora_' in n for n in trained)
    teacher = FrozenTeacher()
    teacher.setup(sam)
    assert len(teacher.state_dict()) == len(trained) + 1  # the averages and `started`
    start = {k: v.clone() for k, v in sam.named_parameters()}
    teacher.update(sam)  # first iteration: the copy is taken
    with torch.no_grad():
        for n in trained:
            sam.get_parameter(n).add_(1.0)  # the student trains
    teacher.update(sam)
    with teacher.model(sam) as frozen:
        for n in trained:
            assert torch.equal(frozen.get_submodule(n.rpartition('.')[0]).weight, start[n]), n
    for n, p in sam.named_parameters():  # the student's own parameters, trained, are back
        assert isinstance(p, torch.nn.Parameter)
        assert torch.equal(p, start[n] + 1.0 if n in trained else start[n]), n
    assert not any(b.requires_grad for b in teacher.buffers())


def test_averaged_teacher_leaves_no_autocast_cast_to_the_student():
    """Under one outer bf16 autocast (BF16OptimWrapper's), the teacher's pass with the averaged
    weights must not leave a cached bf16 cast that the student's pass would then reuse."""
    from mmpointsam.models.self_training import EMATeacher

    torch.manual_seed(0)
    student = torch.nn.Linear(8, 8)
    teacher = EMATeacher(momentum=0.5)
    teacher.setup(student)
    teacher.update(student)
    with torch.no_grad():
        student.weight.add_(1.0)
    x = torch.randn(4, 8)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        expected = student(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        with torch.no_grad(), teacher.model(student) as t:
            from_teacher = t(x)
        from_student = student(x)
    assert torch.equal(from_student, expected)
    assert not torch.equal(from_teacher, from_student)


class _BleedingModel(torch.nn.Module):
    """A stand-in for a weak SAM on a dense target: its mask is a disk of radius ``radius`` and
    its pseudo label bleeds one cell past it (the answer is a little bigger than the object)."""

    def __init__(self, radius: float) -> None:
        super().__init__()
        self.radius = torch.nn.Parameter(torch.tensor(radius))

    def pseudo_radius(self) -> float:
        return float(self.radius) + 1.0


def _self_train(teacher, iters: int) -> float:
    """``iters`` rounds of the teacher/student loop with a student that learns its pseudo label
    exactly (the strategy's order: update the teacher, label with it, train the student)."""
    student = _BleedingModel(3.0)
    teacher.setup(student)
    for _ in range(iters):
        teacher.update(student)
        with teacher.model(student) as model:
            target = model.pseudo_radius()
        with torch.no_grad():
            student.radius.fill_(target)
    return float(student.radius) - 3.0


def test_ema_teacher_slows_the_growth_loop_of_the_current_weights():
    """The growth collapse of self-training on the proxy's dense target (masks 4-12 times their
    first area): with the current weights as teacher, each round's bleed is learnt and labelled
    again, one cell per round; an EMA teacher passes on only ``momentum`` of it per round."""
    from mmpointsam.models.self_training import CurrentWeightsTeacher, EMATeacher

    assert _self_train(CurrentWeightsTeacher(), 50) == 50.0
    # the student's own one-cell bleed, then 0.02 a round (the first round copies the student)
    grown = _self_train(EMATeacher(momentum=0.02), 50)
    assert abs(grown - (1.0 + 49 * 0.02)) < 1e-4


def test_ema_teacher_run_fraction_sets_the_momentum_from_the_run_length():
    """run_fraction=1/3 of a 150-iteration run is momentum 0.02, read from the message hub that
    MMEngine's RuntimeInfoHook fills; outside a runner it is a named error, not a guess."""
    from mmengine.logging import MessageHub

    from mmpointsam.models.self_training import EMATeacher

    hub = MessageHub.get_instance('test_ema_run_fraction')  # the current hub from here on
    hub.update_info('max_iters', 150)
    teacher = EMATeacher(run_fraction=1 / 3)
    grown = _self_train(teacher, 50)
    assert abs(teacher.momentum - 0.02) < 1e-12
    assert abs(grown - (1.0 + 49 * 0.02)) < 1e-4
    MessageHub.get_instance('test_ema_run_fraction_empty')  # no max_iters in this one
    with pytest.raises(RuntimeError, match='max_iters'):
        _self_train(EMATeacher(run_fraction=1 / 3), 1)
    with pytest.raises(ValueError, match='not both'):
        EMATeacher(momentum=0.01, run_fraction=0.5)
    assert EMATeacher().momentum == 0.001


def test_pseudo_gt_iou_is_logged_where_masks_are_known(monkeypatch):
    """The papers' protocol reads masks (to resample prompts): the strategy then logs how good
    its pseudo masks are. Known pseudo masks against known ground truth: IoU 0.5 and 1."""
    from mmdet.structures import DetDataSample
    from mmengine.registry import init_default_scope
    from mmengine.structures import InstanceData

    from mmpointsam.registry import MODELS

    init_default_scope('mmpointsam')
    model = MODELS.build(
        dict(
            type='PointSAM',
            sam=dict(type='SAM', arch='tiny', img_size=64),
            data_preprocessor=dict(type='SAMDataPreprocessor', img_size=64),
            self_training=dict(type='PointPromptSelfTraining'),
        )
    )
    gt = torch.zeros(2, 64, 64, dtype=torch.bool)
    gt[0, :32, :32] = True  # low-res (16 x 16): rows 0-7, columns 0-7
    gt[1, 32:, 32:] = True  # rows 8-15, columns 8-15
    pseudo = torch.full((2, 16, 16), -5.0)
    pseudo[0, :8, :4] = 5.0  # half of instance 0: IoU 32 / 64 = 0.5
    pseudo[1, 8:, 8:] = 5.0  # instance 1 exactly: IoU 1
    strategy = model.self_training
    monkeypatch.setattr(
        strategy,
        'pseudo_labels',
        lambda sam, images, prompts: (pseudo, sam.encode(images), None, None),
    )
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0), pad_shape=(64, 64)
        )
    )
    sample.gt_instances = InstanceData(
        points=torch.tensor([[[10.0, 10.0]], [[50.0, 50.0]]]),
        point_labels=torch.ones(2, 1, dtype=torch.long),
        labels=torch.zeros(2, dtype=torch.long),
    )
    losses = model.loss(torch.randn(1, 3, 64, 64), [sample])
    assert 'pseudo_gt_iou' not in losses  # points only: nothing to compare with
    sample.gt_instances.masks = gt
    losses = model.loss(torch.randn(1, 3, 64, 64), [sample])
    assert abs(float(losses['pseudo_gt_iou']) - 0.75) < 1e-6
    # a third object of 1 pixel covers no low-res cell: an empty pseudo mask would score IoU 1
    # against its empty low-res truth, so it is left out and the mean stays 0.75
    tiny = torch.zeros(1, 64, 64, dtype=torch.bool)
    tiny[0, 40, 10] = True
    pseudo3 = torch.cat([pseudo, torch.full((1, 16, 16), -5.0)])
    monkeypatch.setattr(
        strategy,
        'pseudo_labels',
        lambda sam, images, prompts: (pseudo3, sam.encode(images), None, None),
    )
    sample.gt_instances = InstanceData(
        points=torch.tensor([[[10.0, 10.0]], [[50.0, 50.0]], [[10.0, 40.0]]]),
        point_labels=torch.ones(3, 1, dtype=torch.long),
        labels=torch.zeros(3, dtype=torch.long),
        masks=torch.cat([gt, tiny]),
    )
    losses = model.loss(torch.randn(1, 3, 64, 64), [sample])
    assert abs(float(losses['pseudo_gt_iou']) - 0.75) < 1e-6


def test_target_prototypes_load_safely(tmp_path):
    """Prototype files load under torch's weights_only rules: compute_prototypes stores a custom
    arch as a plain dict; a file with another object is refused, naming the file and the fix."""
    import importlib.util
    import os.path as osp

    from conftest import REPO, shrink_config
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    spec = importlib.util.spec_from_file_location(
        'compute_prototypes', osp.join(REPO, 'tools', 'compute_prototypes.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = shrink_config('pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    # a custom (dict) arch, as the proxy benchmark's model: was stored as a ConfigDict
    cfg.model.sam.arch = Config(
        dict(
            arch=dict(
                type='vit',
                embed_dim=32,
                depth=2,
                num_heads=2,
                global_attn_indexes=(1,),
                window_size=4,
            )
        )
    ).arch
    init_default_scope('mmpointsam')
    result = tool.compute_prototypes(cfg, max_images=2)
    assert type(result['arch']) is dict
    path = tmp_path / 'protos.pth'
    torch.save(result, path)
    assert torch.equal(PrototypeRegularizer.load_targets(str(path)), result['prototypes'].float())
    torch.save(dict(result, arch=cfg.model.sam.arch), tmp_path / 'old.pth')  # a ConfigDict
    with pytest.raises(ValueError, match='old.pth.*compute_prototypes'):
        PrototypeRegularizer.load_targets(str(tmp_path / 'old.pth'))
