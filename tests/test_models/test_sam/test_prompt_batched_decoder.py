import pytest
import torch

from mmpointsam.models.sam import build_sam


@pytest.mark.parametrize(
    'arch,img_size,num_points', [('tiny', 128, 1), ('tiny', 256, 3), ('vit_t', 256, 2)]
)
def test_same_masks_and_gradients_as_segment_anything(arch, img_size, num_points):
    torch.manual_seed(0)
    fast = build_sam(dict(arch=arch, img_size=img_size))
    slow = build_sam(dict(arch=arch, img_size=img_size, prompt_batched_decoder=False))
    slow.load_state_dict(fast.state_dict())
    fast.eval(), slow.eval()
    grid = img_size // 16
    dim = fast.prompt_encoder.embed_dim
    emb = torch.randn(2, dim, grid, grid)
    n = 7
    points = torch.rand(n, 2 * num_points, 2) * img_size
    labels = torch.tensor([[1] * num_points + [0] * num_points] * n)
    labels[0, -1] = -1  # padding too
    batch_idx = torch.tensor([0, 1, 0, 0, 1, 1, 0])
    outs = []
    for model in (fast, slow):
        e = emb.clone().requires_grad_()
        logits, iou = model.decode(e, batch_idx, points, labels, multimask_output=True)
        (logits.sigmoid().square().mean() + iou.sum()).backward()
        outs.append((logits, iou, e.grad))
    (lf, if_, gf), (ls, is_, gs) = outs
    assert torch.allclose(lf, ls, atol=1e-4, rtol=1e-4)
    assert torch.allclose(if_, is_, atol=1e-5, rtol=1e-4)
    assert torch.allclose(gf, gs, atol=1e-6, rtol=1e-3)


def test_box_prompts_use_the_same_path_and_mask_prompts_fall_back():
    torch.manual_seed(0)
    fast = build_sam(dict(arch='tiny', img_size=128)).eval()
    slow = build_sam(dict(arch='tiny', img_size=128, prompt_batched_decoder=False)).eval()
    slow.load_state_dict(fast.state_dict())
    emb = torch.randn(1, 32, 8, 8)
    boxes = torch.tensor([[10.0, 10.0, 60.0, 50.0], [0.0, 20.0, 128.0, 90.0]])
    idx = torch.zeros(2, dtype=torch.long)
    with torch.no_grad():
        a = fast.decode(emb, idx, boxes=boxes)
        b = slow.decode(emb, idx, boxes=boxes)
        assert torch.allclose(a[0], b[0], atol=1e-4)
        masks = torch.randn(2, 1, 32, 32)
        c = fast.decode(emb, idx, boxes=boxes, mask_inputs=masks)
        d = slow.decode(emb, idx, boxes=boxes, mask_inputs=masks)
        assert torch.equal(c[0], d[0])  # mask prompts: SAM's own decoder in both


def test_same_gradients_for_decoder_weights_when_training_everything():
    """Training from scratch (all parameters trainable) gets the same decoder gradients."""
    torch.manual_seed(0)
    cfg = dict(
        arch=dict(
            type='vit', embed_dim=128, depth=2, num_heads=4, global_attn_indexes=(1,), window_size=8
        ),
        decoder=dict(embed_dim=64, mlp_dim=256, num_heads=4, iou_head_hidden_dim=64),
        img_size=128,
        trainable=('image_encoder', 'prompt_encoder', 'mask_decoder'),
    )
    fast = build_sam(dict(cfg))
    slow = build_sam(dict(cfg, prompt_batched_decoder=False))
    slow.load_state_dict(fast.state_dict())
    images = torch.randn(2, 3, 128, 128)
    points = torch.rand(6, 2, 2) * 128
    labels = torch.tensor([[1, 0]] * 6)
    batch_idx = torch.tensor([0, 0, 0, 1, 1, 1])
    target = (torch.rand(6, 32, 32) > 0.5).float()
    grads = []
    for model in (fast, slow):
        logits, iou = model.decode(model.encode(images), batch_idx, points, labels)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target) + iou.sum()
        loss.backward()
        grads.append({n: p.grad for n, p in model.named_parameters() if p.grad is not None})
    for name, b in grads[1].items():
        a = grads[0].get(name, torch.zeros_like(b))
        if name.endswith('k_proj.bias'):
            # softmax is shift invariant: the key bias has no effect, its gradient is 0 up to
            # rounding in SAM's path and exactly 0 (unused) in the re-associated one
            assert a.abs().max() < 1e-6 and b.abs().max() < 1e-6, name
            continue
        assert (a - b).abs().max() / b.abs().max().clamp(min=1e-8) < 1e-3, name
    assert set(grads[0]) <= set(grads[1])
    total = [sum(g.norm() ** 2 for g in gs.values()) ** 0.5 for gs in grads]
    assert abs(total[0] - total[1]) / total[1] < 1e-4  # no exploding gradients


@pytest.mark.parametrize('reassociate', [None, True, False])
@pytest.mark.parametrize('chunk_size', [None, 2])
def test_every_product_order_and_chunking_equals_segment_anything(reassociate, chunk_size):
    """Both orders of the attention products, chunked or not, in float64: equal to rounding."""
    from mmpointsam.models.sam import prompt_batched_decoder as pbd

    torch.manual_seed(0)
    sam = build_sam(dict(arch='vit_t', img_size=128)).eval()
    points = torch.rand(5, 3, 2) * 128
    labels = torch.tensor([[1, 0, -1]] * 5)
    sparse, dense = sam.prompt_encoder((points, labels), None, None)
    pe = sam.prompt_encoder.get_dense_pe()
    sam.double()
    sparse, dense, pe = sparse.double().detach(), dense.double().detach(), pe.double()
    emb = torch.randn(1, 256, 8, 8, dtype=torch.float64)
    outs = []
    for fast in (True, False):
        e = emb.clone().requires_grad_()
        if fast:
            masks, iou = pbd.predict_masks(
                sam.mask_decoder,
                e,
                pe,
                sparse,
                dense[:1],
                mask_tokens=slice(1, None),
                chunk_size=chunk_size,
                reassociate=reassociate,
            )
        else:
            masks, iou = sam.mask_decoder.predict_masks(e, pe, sparse, dense)
            masks, iou = masks[:, 1:], iou[:, 1:]  # the three multimask outputs
        (masks.tanh().mean() + iou.square().sum()).backward()
        outs.append((masks, iou, e.grad))
    assert outs[0][0].shape == (5, 3, 32, 32)
    for a, b in zip(*outs):
        assert (a - b).abs().max() < 1e-10 * b.abs().max().clamp(min=1)


def test_reassociation_follows_the_token_count():
    from mmpointsam.models.sam.prompt_batched_decoder import _reassociate

    attn = build_sam(dict(arch='vit_t', img_size=128)).mask_decoder.transformer.layers[1]
    attn = attn.cross_attn_token_to_image  # 8 heads, 128 internal channels
    assert _reassociate(attn, 7, None)  # 8 x 7 = 56 rows < 128: products on the tokens
    assert not _reassociate(attn, 57, None)  # NPC with 50 negatives: project the image
    assert _reassociate(attn, 57, True)
