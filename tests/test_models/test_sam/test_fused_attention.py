"""Fused (SDPA) attention against segment-anything's and MobileSAM's own, and the compile switch."""

import copy
import warnings

import pytest
import torch
from segment_anything.modeling.image_encoder import Attention

from mmpointsam.models.sam import build_sam
from mmpointsam.models.sam.fused_attention import (
    FusedRelPosAttention,
    decomposed_rel_pos,
    key_grid_onehot,
    rel_pos_attention,
)
from mmpointsam.models.sam.tiny_vit import TinyViT


def _reference_attention(dim=32, heads=4, size=(6, 6), seed=0):
    torch.manual_seed(seed)
    ref = Attention(dim, num_heads=heads, qkv_bias=True, use_rel_pos=True, input_size=size)
    with torch.no_grad():  # segment-anything zero-initialises them: make the term count
        ref.rel_pos_h.normal_(std=0.5)
        ref.rel_pos_w.normal_(std=0.5)
    return ref


def _rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item()


@pytest.mark.parametrize('size', [(6, 6), (4, 7)])
def test_fused_forward_matches_segment_anything(size):
    ref = _reference_attention(size=size)
    fused = FusedRelPosAttention.from_attention(ref)
    x = torch.randn(3, *size, 32)
    with torch.no_grad():
        assert _rel(fused(x), ref(x)) < 1e-5


def _attention_inputs(ref, batch=2, size=(6, 6)):
    """q, k, v (leaves) and the rel-pos terms of ``ref`` on random tokens."""
    H, W = size
    x = torch.randn(batch, H, W, ref.qkv.in_features)
    qkv = ref.qkv(x).reshape(batch, H * W, 3, ref.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = (t.detach().requires_grad_() for t in qkv.reshape(3, -1, H * W, qkv.shape[-1]))
    rel_h, rel_w = decomposed_rel_pos(q, ref.rel_pos_h, ref.rel_pos_w, (H, W), (H, W))
    return q, k, v, rel_h, rel_w


@pytest.mark.parametrize('size', [(6, 6), (4, 7), (14, 14)])
def test_folded_attention_and_gradients_match_the_written_out_formula(size):
    """Forward and gradients (q, k, v, both rel-pos tables) of the folded SDPA equal
    segment-anything's score matrix by autograd; (4, 7) is not square, (14, 14) is a ViT-B
    window."""
    dim, heads = (128, 2) if size == (14, 14) else (32, 4)  # head width 64 as in SAM's ViT
    ref = _reference_attention(dim=dim, heads=heads, size=size)
    q, k, v, rel_h, rel_w = _attention_inputs(ref, size=size)
    G, N, _ = q.shape
    H, W = size
    scores = (q * ref.scale) @ k.transpose(-2, -1)
    scores = scores.view(G, N, H, W) + rel_h[..., :, None] + rel_w[..., None, :]
    expected = scores.view(G, N, N).softmax(-1) @ v
    got = rel_pos_attention(q, k, v, rel_h, rel_w, ref.scale)
    assert got.shape == expected.shape
    assert _rel(got, expected) < 1e-5
    grad = torch.randn_like(got)
    inputs = [q, k, v, ref.rel_pos_h, ref.rel_pos_w]
    want = torch.autograd.grad(expected, inputs, grad, retain_graph=True)
    have = torch.autograd.grad(got, inputs, grad)
    for name, a, b in zip(['q', 'k', 'v', 'rel_pos_h', 'rel_pos_w'], have, want):
        assert _rel(a, b) < 1e-5, name


def test_key_grid_onehot_picks_row_and_column():
    onehot = key_grid_onehot(2, 3, torch.float32, 'cpu')
    rel_h, rel_w = torch.tensor([10.0, 20.0]), torch.tensor([1.0, 2.0, 3.0])
    # row-major keys (y, x): 11 12 13 21 22 23
    assert (onehot @ torch.cat([rel_h, rel_w])).tolist() == [11, 12, 13, 21, 22, 23]


def test_training_stores_no_score_matrix():
    """The backward keeps q', k', v' and the output, never a (G, N, N) score or probability
    matrix: what lets a global block train at 1024 px without 12 x 4096 x 4096 buffers."""
    ref = _reference_attention(size=(8, 8))
    q, k, v, rel_h, rel_w = _attention_inputs(ref, size=(8, 8))
    G, N, _ = q.shape
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(
        lambda t: saved.append(t.numel()) or t, lambda t: t
    ):
        out = rel_pos_attention(q, k, v, rel_h, rel_w, ref.scale)
    assert saved and max(saved) < G * N * N
    out.sum().backward()
    assert q.grad is not None and ref.rel_pos_h.grad is not None
    with torch.no_grad():
        assert rel_pos_attention(q, k, v, rel_h, rel_w, ref.scale).grad_fn is None


def test_lora_sam_gradients_match_reference_sam():
    """Gradients of a LoRA-on-qkv SAM train the same through the fused attention."""
    lora = dict(r=2, targets=('q', 'v'))
    torch.manual_seed(0)
    fused = build_sam(dict(arch='tiny', img_size=64, lora=lora))
    ref = build_sam(dict(arch='tiny', img_size=64, lora=lora, attention='reference'))
    with torch.no_grad():
        for p in fused.parameters():
            p.normal_(std=0.2)  # LoRA's B starts at zero and rel-pos at zero: make both count
    ref.load_state_dict(fused.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for model in (fused, ref):
        model.zero_grad()
        out = model.encode(x)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads.append({n: p.grad for n, p in model.named_parameters() if p.grad is not None})
    assert set(grads[0]) == set(grads[1]) and any('lora_' in n for n in grads[0])
    for name, g in grads[0].items():
        assert _rel(g, grads[1][name]) < 1e-4, name


def test_bf16_autocast_within_bf16_rounding():
    ref = _reference_attention(dim=64, heads=2, size=(8, 8))
    fused = FusedRelPosAttention.from_attention(ref)
    x = torch.randn(2, 8, 8, 64)
    with torch.no_grad():
        exact = ref(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            ref16, fused16 = ref(x).float(), fused(x).float()
    err_ref, err_fused = _rel(ref16, exact), _rel(fused16, exact)
    assert err_ref > 1e-4  # bf16 did round
    assert err_fused < max(2 * err_ref, 2**-7), (err_fused, err_ref)


def test_fused_sam_keeps_checkpoint_keys_and_outputs():
    fused = build_sam(dict(arch='tiny', img_size=64)).eval()
    ref = build_sam(dict(arch='tiny', img_size=64, attention='reference')).eval()
    assert isinstance(fused.image_encoder.blocks[0].attn, FusedRelPosAttention)
    assert isinstance(ref.image_encoder.blocks[0].attn, Attention)
    assert set(fused.state_dict()) == set(ref.state_dict())
    with torch.no_grad():
        for p in fused.image_encoder.parameters():
            p.normal_(std=0.2)
    ref.load_state_dict(fused.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert _rel(fused.encode(x), ref.encode(x)) < 1e-5
    with pytest.raises(ValueError, match='attention must be one of'):
        build_sam(dict(arch='tiny', attention='flash'))


def test_tiny_vit_fused_matches_reference_forward_and_backward(monkeypatch):
    from mmpointsam.models.sam import tiny_vit

    monkeypatch.setattr(tiny_vit, 'SDPA_ON_CPU', True)  # off on CPU by default: slower there
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def counting_sdpa(*args, **kwargs):
        calls.append(1)
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(tiny_vit.F, 'scaled_dot_product_attention', counting_sdpa)
    cfg = dict(
        img_size=128,
        embed_dims=(16, 32, 32, 64),
        depths=(1, 1, 1, 1),
        num_heads=(1, 2, 2, 4),
        window_sizes=(7, 7, 7, 7),
        out_chans=32,
    )
    torch.manual_seed(0)
    fused = TinyViT(**cfg)
    ref = TinyViT(attention='reference', **cfg)
    with torch.no_grad():
        for name, p in fused.named_parameters():
            if 'attention_biases' in name:
                p.normal_()
    ref.load_state_dict(fused.state_dict(), strict=True)
    assert fused.layers[1].blocks[0].attn.fused and not ref.layers[1].blocks[0].attn.fused
    x = torch.randn(2, 3, 128, 128)
    outs = [fused(x)]
    assert len(calls) == 3  # one per attention block
    outs.append(ref(x))
    assert len(calls) == 3 and _rel(outs[0], outs[1]) < 1e-5
    grads = []
    for m, out in zip((fused, ref), outs):
        out.square().sum().backward()
        grads.append(dict((n, p.grad) for n, p in m.named_parameters() if p.grad is not None))
    for name, g in grads[0].items():
        assert _rel(g, grads[1][name]) < 1e-4, name


# ---------------------------------------------------------------------------------- compile
def test_compile_failure_falls_back_with_a_warning(monkeypatch):
    eager = build_sam(dict(arch='tiny', img_size=64)).eval()
    model = build_sam(dict(arch='tiny', img_size=64, compile_encoder=True)).eval()
    model.load_state_dict(eager.state_dict())

    def broken(*args, **kwargs):
        raise RuntimeError('no C++ compiler')

    monkeypatch.setattr(torch, 'compile', broken)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad(), pytest.warns(UserWarning, match='no C.. compiler'):
        out = model.encode(x)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('error')  # warned once, then eager quietly
        again = model.encode(x)
        assert torch.equal(out, eager.encode(x)) and torch.equal(again, out)


def test_compiled_call_failure_falls_back_but_input_errors_raise(monkeypatch):
    model = build_sam(dict(arch='tiny', img_size=64, compile_encoder=True)).eval()

    def compile_to_failing(module, **kwargs):
        def run(images):
            raise RuntimeError('backend exploded')

        return run

    monkeypatch.setattr(torch, 'compile', compile_to_failing)
    with torch.no_grad(), pytest.raises(Exception) as err:
        model.encode(torch.randn(1, 3, 48, 48))  # the wrong size fails eagerly too
    assert 'backend exploded' not in str(err.value)
    with torch.no_grad(), pytest.warns(UserWarning, match='backend exploded'):
        model.encode(torch.randn(1, 3, 64, 64))


def test_compiled_encoder_matches_eager_and_keeps_state_dict_keys():
    eager = build_sam(dict(arch='tiny', img_size=64)).eval()
    model = build_sam(dict(arch='tiny', img_size=64, compile_encoder=dict(backend='eager'))).eval()
    model.load_state_dict(eager.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)
        out = model.encode(x)
    assert model._compiled.fn is not None and not model._compiled.failed
    assert _rel(out, eager.encode(x).detach()) < 1e-5
    assert set(model.state_dict()) == set(eager.state_dict())
    teacher = copy.deepcopy(model)
    assert teacher._compiled.fn is None
    with pytest.raises(TypeError, match='compile_encoder'):
        build_sam(dict(arch='tiny', compile_encoder='yes'))
