"""Each guard of issue 21 on a constructed case of the collapse it prevents."""

import math

import torch

from mmpointsam.models.self_training import (
    ConfidenceRefiner,
    NegativePromptCalibration,
    PseudoLabelGate,
    PseudoMaskStatistics,
    clicks_inside,
    stability_score,
)

L = 16  # low-res grid of the fake decoder: 64 px input, 4 px cells


class WeakDecoder:
    """A stand-in for a weak SAM decoder on a 64 px input (16 x 16 low-res grid).

    Points: a 5 x 5-cell square around the first positive click, unless any negative click is
    given: then nothing (the weak decoder's answer to two clicks a few pixels apart). Boxes: the
    box itself, as a mask.
    """

    img_size = 64
    mask_threshold = 0.0

    def decode(self, embeddings, batch_idx, points=None, labels=None, boxes=None, **kwargs):
        num = len(batch_idx)
        logits = torch.full((num, L, L), -5.0)
        for i in range(num):
            if boxes is not None:
                x0, y0, x1, y1 = (boxes[i] / 4).round().long().tolist()
                logits[i, y0:y1, x0:x1] = 5.0
                continue
            if (labels[i] == 0).any():
                continue  # calibrated: erased
            x, y = (points[i][labels[i] == 1][0] / 4).long().tolist()
            logits[i, max(y - 2, 0) : y + 3, max(x - 2, 0) : x + 3] = 5.0
        return logits, torch.ones(num)


def _first_answers(decoder, points, labels):
    return decoder.decode(None, torch.zeros(len(points), dtype=torch.long), points, labels)


# ------------------------------------------------------------------------------------ NPC guard
def test_npc_guard_keeps_the_plain_mask_when_calibration_erases_it():
    """Two overlapping clicks: the paper's NPC hands each the other's click as a negative, the
    weak decoder answers with an empty mask and that is the pseudo label. The guard keeps the
    uncalibrated answer."""
    decoder = WeakDecoder()
    points = torch.tensor([[[30.0, 30.0]], [[38.0, 30.0]]])  # 2 cells apart
    labels = torch.ones(2, 1, dtype=torch.long)
    batch_idx = torch.zeros(2, dtype=torch.long)
    logits, iou = _first_answers(decoder, points, labels)
    assert (logits > 0).flatten(1).sum(1).tolist() == [25, 25]

    paper = NegativePromptCalibration(iou_thr=0.1)
    out, _, calibrated = paper(decoder, None, batch_idx, points, labels, logits, iou)
    assert calibrated.tolist() == [True, True]
    assert (out > 0).flatten(1).sum(1).tolist() == [0, 0]  # the collapse: both erased

    guarded = NegativePromptCalibration(iou_thr=0.1, min_kept=0.5)
    out, _, calibrated = guarded(decoder, None, batch_idx, points, labels, logits, iou)
    assert calibrated.tolist() == [False, False]
    assert torch.equal(out, logits)


def test_npc_guard_accepts_a_calibration_that_refines():
    """A calibrated mask that keeps most of the plain one replaces it (NPC still works)."""
    guard = NegativePromptCalibration(min_kept=0.5)
    plain = torch.zeros(3, L, L, dtype=torch.bool)
    plain[:, 4:10, 4:10] = True  # 36 cells
    calibrated = torch.zeros(3, L, L, dtype=torch.bool)
    calibrated[0, 4:10, 4:8] = True  # trimmed to 24 of the 36: refined, kept
    calibrated[1, 4:6, 4:10] = True  # 12 of 36: most of it lost
    # instance 2: calibrated mask empty
    assert guard.keep_calibrated(plain, calibrated).tolist() == [True, False, False]


def test_npc_negatives_only_from_clicks_apart_at_the_decoders_resolution():
    """Clicks closer than min_negative_distance cells do not become each other's negatives;
    farther ones still do."""
    npc = NegativePromptCalibration(iou_thr=0.1, min_negative_distance=2.0)
    decoder = WeakDecoder()
    # 0 and 1: 1 cell apart (4 px); 2 and 3: 3 cells apart, their 5 x 5 squares overlap
    points = torch.tensor([[[10.0, 10.0]], [[14.0, 10.0]], [[40.0, 40.0]], [[52.0, 40.0]]])
    labels = torch.ones(4, 1, dtype=torch.long)
    logits, _ = _first_answers(decoder, points, labels)
    rows, _, new_labels = npc.prompts_from_masks(
        logits > 0, torch.zeros(4, dtype=torch.long), points, labels, cell=4.0
    )
    assert rows.tolist() == [2, 3]
    assert new_labels.tolist() == [[1, 0], [1, 0]]
    # the paper's rule calibrates all four
    rows, _, _ = NegativePromptCalibration(iou_thr=0.1).prompts_from_masks(
        logits > 0, torch.zeros(4, dtype=torch.long), points, labels, cell=4.0
    )
    assert rows.tolist() == [0, 1, 2, 3]


# ------------------------------------------------------------------------- ReSAM refine floor
def _logit(p):
    return math.log(p / (1 - p))


def test_refine_floor_keeps_the_requery_box_from_shrinking_to_a_core():
    """A weak model's mask: 36 cells at p = 0.75, one cell at p = 0.95. The paper's threshold
    (p (1 - H) > 0.25 keeps p > 0.81) keeps the one cell, whose box requeries a 1-cell pseudo
    mask. The floor keeps at least half of the mask, so the box spans it."""
    decoder = WeakDecoder()
    logits = torch.full((1, L, L), -5.0)
    logits[0, 4:10, 4:10] = _logit(0.75)
    logits[0, 6, 6] = _logit(0.95)
    points = torch.tensor([[[26.0, 26.0]]])
    labels = torch.ones(1, 1, dtype=torch.long)
    batch_idx = torch.zeros(1, dtype=torch.long)

    paper = ConfidenceRefiner(threshold=0.25, requery_prompt='box')
    out, boxes, refined = paper(decoder, None, batch_idx, points, labels, logits)
    assert refined.item() and int((out > 0).sum()) == 1  # the collapse: 36 cells -> 1

    guarded = ConfidenceRefiner(threshold=0.25, requery_prompt='box', min_area_ratio=0.5)
    region = guarded.refine(logits, batch_idx)
    assert int(region.sum()) >= 18 and bool(region[0, 6, 6])
    assert not (region & (logits <= 0)).any()  # never outside the unrefined mask
    out, boxes, refined = guarded(decoder, None, batch_idx, points, labels, logits)
    assert int((out > 0).sum()) >= 18


def test_refine_floor_leaves_confident_masks_alone():
    """Where the fixed threshold already keeps enough, the floor changes nothing."""
    logits = torch.full((2, L, L), -5.0)
    logits[:, 2:8, 2:8] = _logit(0.99)
    logits[0, 2, 2:8] = _logit(0.6)  # 6 uncertain of 36: 30 kept, above the floor of 18
    paper = ConfidenceRefiner(threshold=0.25).refine(logits, torch.tensor([0, 1]))
    guarded = ConfidenceRefiner(threshold=0.25, min_area_ratio=0.5).refine(
        logits, torch.tensor([0, 1])
    )
    assert torch.equal(paper, guarded) and int(paper[0].sum()) == 30


def test_requery_ceiling_keeps_the_unrefined_mask_when_the_box_answer_inflates_it():
    """An L-shaped mask of 19 cells spans a 10 x 10-cell box: a box prompt answers with the whole
    box, 100 cells, which the student would learn and box again. With the ceiling the instance
    keeps its unrefined mask; a requery within it (a square: its box is itself) is taken."""
    decoder = WeakDecoder()
    logits = torch.full((2, L, L), -5.0)
    logits[0, 2:12, 2] = 5.0  # instance 0: an L of 19 cells spanning 10 x 10
    logits[0, 11, 2:12] = 5.0
    logits[1, 2:6, 12:16] = 5.0  # instance 1: a 4 x 4 square
    points = torch.tensor([[[10.0, 30.0]], [[54.0, 14.0]]])
    labels = torch.ones(2, 1, dtype=torch.long)
    batch_idx = torch.tensor([0, 1])

    paper = ConfidenceRefiner(threshold=0.25, requery_prompt='box')
    out, _, _ = paper(decoder, None, batch_idx, points, labels, logits)
    assert int((out[0] > 0).sum()) == 100  # the box, not the object

    capped = ConfidenceRefiner(threshold=0.25, requery_prompt='box', max_growth=2.0)
    out, _, refined = capped(decoder, None, batch_idx, points, labels, logits)
    assert refined.all()
    assert torch.equal(out[0] > 0, logits[0] > 0)  # 100 > 2 x 19: the unrefined mask stays
    assert int((out[1] > 0).sum()) == 16  # within the ceiling: the requery is taken


# ------------------------------------------------------------------------------- quality gate
def test_gate_drops_empty_degenerate_and_unstable_pseudo_masks():
    logits = torch.full((5, L, L), -5.0)
    logits[0, 4:8, 4:8] = 5.0  # good, around its click
    # 1: empty (the NPC collapse)
    logits[2] = 5.0  # the whole image: degenerate
    logits[3, 10:14, 10:14] = 5.0  # left its click at (4, 4) cells: another object
    logits[4, 4:8, 4:8] = 0.5  # around its click but soft: stability 0
    points = torch.tensor([[[20.0, 20.0]]] * 5)
    labels = torch.ones(5, 1, dtype=torch.long)
    gate = PseudoLabelGate(min_area=1, max_area_ratio=0.5, min_clicks_inside=0.5)
    verdict = gate(logits, points, labels, cell=4.0)
    assert verdict['keep'].tolist() == [True, False, False, False, True]
    assert verdict['empty'].tolist() == [False, True, False, False, False]
    assert verdict['degenerate'].tolist() == [False, False, True, True, False]
    strict = PseudoLabelGate(min_stability=0.5)(logits, points, labels, cell=4.0)
    assert strict['keep'].tolist() == [True, False, False, False, False]
    assert strict['unstable'].tolist() == [False, False, False, False, True]
    view = PseudoLabelGate(min_view_iou=0.5)
    assert view(logits, points, labels, 4.0, torch.tensor([0.9, 1, 1, 1, 0.2]))[
        'keep'
    ].tolist() == [True, False, False, False, False]


def test_stability_and_clicks_inside():
    logits = torch.full((2, 4, 4), -5.0)
    logits[0, :2, :2] = 5.0
    logits[1, :2, :2] = 0.5
    assert stability_score(logits).tolist() == [1.0, 0.0]
    masks = logits > 0
    # clicks at cell (0, 0) and (3, 3) (x, y in input pixels, 2 px cells)
    points = torch.tensor([[[1.0, 1.0], [7.0, 7.0]], [[1.0, 1.0], [0.0, 0.0]]])
    labels = torch.tensor([[1, 1], [1, -1]])
    assert clicks_inside(masks, points, labels, cell=2.0).tolist() == [0.5, 1.0]


def _tiny_pointsam(gate=None):
    from mmengine.registry import init_default_scope

    from mmpointsam.registry import MODELS

    init_default_scope('mmpointsam')
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='PointSAM',
            sam=dict(type='SAM', arch='tiny', img_size=64, trainable=('mask_decoder',)),
            data_preprocessor=dict(type='SAMDataPreprocessor', img_size=64),
            self_training=dict(type='PointPromptSelfTraining', gate=gate),
        )
    )


def _sample(points):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    sample = DetDataSample(
        metainfo=dict(
            img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0), pad_shape=(64, 64)
        )
    )
    sample.gt_instances = InstanceData(
        points=torch.tensor(points),
        point_labels=torch.ones(len(points), 1, dtype=torch.long),
        labels=torch.zeros(len(points), dtype=torch.long),
    )
    return sample


def test_gated_instance_does_not_train_the_student(monkeypatch):
    """An empty pseudo mask for a real click teaches the student to answer nothing. With the
    gate, the loss is exactly the loss of the good instance alone, and the share dropped is
    logged."""
    from mmpointsam.models.self_training.strategy import PseudoLabels

    good = torch.full((1, L, L), -5.0)
    good[0, 0:6, 0:6] = 5.0
    empty = torch.full((1, L, L), -5.0)
    image = torch.randn(1, 3, 64, 64)

    def fake(pseudo):
        def pseudo_labels(sam, images, prompts):
            emb = sam.encode(images)
            return PseudoLabels(pseudo, emb, None, None, pseudo)

        return pseudo_labels

    gated = _tiny_pointsam(gate=dict(type='PseudoLabelGate'))
    monkeypatch.setattr(gated.self_training, 'pseudo_labels', fake(torch.cat([good, empty])))
    losses = gated.loss(image, [_sample([[[10.0, 10.0]], [[50.0, 50.0]]])])
    assert float(losses['gate_dropped']) == 0.5 and float(losses['gate_empty']) == 0.5
    assert float(losses['pseudo_empty_share']) == 0.5

    alone = _tiny_pointsam()
    monkeypatch.setattr(alone.self_training, 'pseudo_labels', fake(good))
    ref = alone.loss(image, [_sample([[[10.0, 10.0]]])])
    for k in ('loss_focal', 'loss_dice', 'loss_iou'):
        assert torch.allclose(losses[k], ref[k], atol=1e-6), k

    ungated = _tiny_pointsam()
    monkeypatch.setattr(ungated.self_training, 'pseudo_labels', fake(torch.cat([good, empty])))
    both = ungated.loss(image, [_sample([[[10.0, 10.0]], [[50.0, 50.0]]])])
    assert not torch.allclose(both['loss_focal'], ref['loss_focal'])

    # everything dropped: zero losses that still reach every trainable parameter
    monkeypatch.setattr(gated.self_training, 'pseudo_labels', fake(torch.cat([empty, empty])))
    losses = gated.loss(image, [_sample([[[10.0, 10.0]], [[50.0, 50.0]]])])
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert float(total) == 0.0 and total.requires_grad


# ------------------------------------------------------------------------------ statistics
def test_pseudo_mask_statistics_track_shrinking_masks():
    """The area ratio is against the first iterations' mean area: masks shrinking from 20 to 5
    cells read 0.25; the empty share is the share of empty masks."""
    stats = PseudoMaskStatistics(ref_iters=2)
    masks = torch.zeros(2, L, L, dtype=torch.bool)
    masks[:, :4, :5] = True  # 20 cells each
    for _ in range(2):
        out = stats(masks)
        assert float(out['pseudo_area_ratio']) == 1.0
    small = torch.zeros(2, L, L, dtype=torch.bool)
    small[0, :2, :5] = True  # 10 cells and an empty mask: mean 5
    out = stats(small)
    assert float(out['pseudo_area_ratio']) == 0.25
    assert float(out['pseudo_empty_share']) == 0.5
    # the reference is saved with the model
    assert int(stats.state_dict()['ref_count']) == 2
