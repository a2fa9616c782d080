import torch

from mmpointsam.models.sam import build_sam
from mmpointsam.models.self_training import NegativePromptCalibration, pairwise_mask_iou


def _square(y0, x0, size=4, shape=(12, 12)):
    m = torch.zeros(shape, dtype=torch.bool)
    m[y0 : y0 + size, x0 : x0 + size] = True
    return m


def test_pairwise_iou_same_image_only():
    masks = torch.stack([_square(0, 0), _square(0, 2), _square(0, 0)])
    iou = pairwise_mask_iou(masks, torch.tensor([0, 0, 1]))
    # squares 0 and 1 share 8 of 24 px; mask 2 is in another image
    expected = torch.tensor([[0, 1 / 3, 0], [1 / 3, 0, 0], [0, 0, 0]])
    assert torch.allclose(iou, expected)


def test_overlapping_instances_get_each_others_positives_as_negatives():
    npc = NegativePromptCalibration(iou_thr=0.1)
    points = torch.tensor(
        [[[1.0, 1.0], [9.0, 9.0]], [[3.0, 1.0], [10.0, 10.0]], [[8.0, 8.0], [0.0, 11.0]]]
    )
    labels = torch.tensor([[1, 0], [1, 0], [1, 0]])
    masks = torch.stack([_square(0, 0), _square(0, 2), _square(7, 7)])
    overlap = pairwise_mask_iou(masks, torch.zeros(3, dtype=torch.long)) > npc.iou_thr
    rows, new_points, new_labels = npc.calibrated_prompts(points, labels, overlap)
    assert rows.tolist() == [0, 1]  # instance 2 overlaps nobody: untouched
    # instance 0 keeps its prompts and gets instance 1's positive (3, 1) as a negative
    assert new_points[0].tolist() == [[1.0, 1.0], [9.0, 9.0], [3.0, 1.0]]
    assert new_labels[0].tolist() == [1, 0, 0]
    assert new_points[1].tolist() == [[3.0, 1.0], [10.0, 10.0], [1.0, 1.0]]
    assert new_labels[1].tolist() == [1, 0, 0]


def test_padding_when_counts_differ():
    npc = NegativePromptCalibration()
    points = torch.arange(12.0).view(3, 2, 2)
    labels = torch.tensor([[1, 1], [1, 0], [1, 1]])
    overlap = torch.tensor([[False, True, True], [True, False, False], [False, False, False]])
    rows, new_points, new_labels = npc.calibrated_prompts(points, labels, overlap)
    # instance 0 gains 1 (from 1) + 2 (from 2) negatives; instance 1 gains 2: padded with -1
    assert new_labels.tolist() == [[1, 1, 0, 0, 0], [1, 0, 0, 0, -1]]


def test_calibration_redecodes_only_overlapping_instances():
    sam = build_sam(dict(arch='tiny', img_size=64)).eval()
    emb = torch.randn(1, 32, 4, 4)
    points = torch.tensor([[[5.0, 5.0]], [[7.0, 5.0]], [[50.0, 50.0]]])
    labels = torch.ones(3, 1, dtype=torch.long)
    batch_idx = torch.zeros(3, dtype=torch.long)
    logits = torch.full((3, 16, 16), -1.0)
    logits[0, :4, :4] = 1
    logits[1, :4, 1:5] = 1
    logits[2, 10:, 10:] = 1
    iou = torch.zeros(3)
    new_logits, new_iou, calibrated = NegativePromptCalibration()(
        sam, emb, batch_idx, points, labels, logits, iou
    )
    assert calibrated.tolist() == [True, True, False]
    assert torch.equal(new_logits[2], logits[2]) and new_iou[2] == 0
    expected, _ = sam.decode(
        emb, batch_idx[:1], torch.tensor([[[5.0, 5.0], [7.0, 5.0]]]), torch.tensor([[1, 0]])
    )
    assert torch.allclose(new_logits[0], expected[0], atol=1e-5)


def _paper_prompts(points, labels, overlap):
    """NPC prompts as first written (a loop over instances): every other's positive, in index
    order, padded with label -1 -- the reference the vectorised one must equal."""
    rows = overlap.any(dim=1).nonzero(as_tuple=True)[0]
    positive = labels == 1
    new_points, new_labels = [], []
    for i in rows.tolist():
        others = overlap[i].nonzero(as_tuple=True)[0]
        neg = points[others][positive[others]]
        new_points.append(torch.cat([points[i], neg]))
        new_labels.append(torch.cat([labels[i], labels.new_zeros(len(neg))]))
    width = max(len(p) for p in new_points)
    out_points = points.new_zeros((len(rows), width, 2))
    out_labels = labels.new_full((len(rows), width), -1)
    for k, (p, lb) in enumerate(zip(new_points, new_labels)):
        out_points[k, : len(p)], out_labels[k, : len(lb)] = p, lb
    return rows, out_points, out_labels


def _random_scene(num, width=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    points = torch.rand(num, width, 2, generator=g) * 100
    labels = torch.randint(0, 2, (num, width), generator=g)
    labels[:, 0] = 1
    iou = torch.rand(num, num, generator=g)
    iou = (iou + iou.T) / 2
    iou.fill_diagonal_(0)
    return points, labels, iou


def test_cap_at_or_above_everything_is_the_uncapped_calibration():
    points, labels, iou = _random_scene(30)
    overlap = iou > 0.3
    expected = _paper_prompts(points, labels, overlap)
    for cap in (None, 60, 1000):
        got = NegativePromptCalibration(max_negatives=cap).calibrated_prompts(
            points, labels, overlap, iou
        )
        for a, b in zip(got, expected):
            assert torch.equal(a, b)


def test_negatives_per_prompt_are_bounded_and_come_from_the_most_overlapping():
    points, labels, iou = _random_scene(200, width=1, seed=1)
    overlap = iou > 0.05  # nearly everything overlaps: uncapped, ~190 negatives each
    rows, new_points, new_labels = NegativePromptCalibration(max_negatives=5).calibrated_prompts(
        points, labels, overlap, iou
    )
    assert len(rows) == 200
    assert new_labels.shape == (200, 1 + 5)  # the decoder sees 6 tokens, not ~190
    assert ((new_labels == 0).sum(dim=1) == 5).all()
    for k, i in enumerate(rows.tolist()[:20]):
        top5 = torch.topk(torch.where(overlap[i], iou[i], torch.tensor(-1.0)), 5).indices
        assert sorted(map(tuple, new_points[k, 1:].tolist())) == sorted(
            map(tuple, points[top5, 0].tolist())
        )
    # fewer overlapping positives than the cap: all of them, padded like the uncapped one
    points = torch.tensor([[[1.0, 1.0]], [[2.0, 2.0]], [[3.0, 3.0]]])
    labels = torch.ones(3, 1, dtype=torch.long)
    overlap = torch.tensor([[False, True, True], [True, False, False], [False, False, False]])
    _, new_points, new_labels = NegativePromptCalibration(max_negatives=4).calibrated_prompts(
        points, labels, overlap
    )
    assert new_labels.tolist() == [[1, 0, 0], [1, 0, -1]]
    assert new_points[0, 1:].tolist() == [[2.0, 2.0], [3.0, 3.0]]


def test_chunked_decoding_with_progress_equals_one_call():
    from mmpointsam.models.utils import decode_in_chunks

    sam = build_sam(dict(arch='tiny', img_size=64)).eval()
    emb = torch.randn(1, 32, 4, 4)
    g = torch.Generator().manual_seed(0)
    points = torch.rand(10, 2, 2, generator=g) * 64
    labels = torch.tensor([[1, 0]] * 10)
    batch_idx = torch.zeros(10, dtype=torch.long)
    seen = []
    with torch.no_grad():
        whole = sam.decode(emb, batch_idx, points, labels)
        chunked = decode_in_chunks(
            sam, emb, batch_idx, points, labels, progress=lambda *a: seen.append(a), chunk_size=4
        )
    assert torch.allclose(whole[0], chunked[0], atol=1e-5)
    assert torch.allclose(whole[1], chunked[1], atol=1e-5)
    assert seen == [('decode', 4, 10), ('decode', 8, 10), ('decode', 10, 10)]
