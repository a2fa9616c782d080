import json
from pathlib import Path

import pytest
import torch

from mmpointsam.models.sam.tiny_vit import TinyViT

LAYOUT = Path(__file__).parents[2] / 'data/checkpoint_layouts/mobile_sam_vit_t_keys_shapes.json'
PREFIX = 'image_encoder.'

TINY = dict(
    embed_dims=(16, 32, 32, 64),
    depths=(1, 1, 1, 1),
    num_heads=(1, 2, 2, 4),
    window_sizes=(7, 7, 7, 7),
    out_chans=32,
)


def _expected_layout():
    layout = json.loads(LAYOUT.read_text())
    return {k[len(PREFIX) :]: tuple(v) for k, v in layout.items() if k.startswith(PREFIX)}


def test_state_dict_matches_mobile_sam_checkpoint():
    expected = _expected_layout()
    assert expected, 'no image_encoder entries in the layout file'
    model = TinyViT()
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}

    assert set(got) == set(expected), (
        f'missing: {sorted(set(expected) - set(got))[:10]}, '
        f'unexpected: {sorted(set(got) - set(expected))[:10]}'
    )
    mismatched = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
    assert not mismatched, mismatched

    sd = {}
    for k, shape in expected.items():
        if k.endswith('num_batches_tracked'):
            sd[k] = torch.zeros(shape, dtype=torch.int64)
        else:
            sd[k] = torch.randn(shape)
    result = model.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_attention_bias_idxs_not_persistent():
    model = TinyViT(img_size=128, **TINY)
    attn = model.layers[1].blocks[0].attn
    assert 'attention_bias_idxs' in dict(attn.named_buffers())
    assert 'attention_bias_idxs' not in attn.state_dict()
    assert isinstance(attn.qkv, torch.nn.Linear)


@pytest.mark.parametrize('img_size', [128, 256])
def test_tiny_forward_shape_and_grad(img_size):
    torch.manual_seed(0)
    model = TinyViT(img_size=img_size, **TINY)
    x = torch.randn(2, 3, img_size, img_size)
    out = model(x)
    assert out.shape == (2, 32, img_size // 16, img_size // 16)
    assert model.img_size == img_size

    out.mean().backward()
    grad = model.get_parameter('layers.1.blocks.0.attn.qkv.weight').grad
    assert grad is not None and grad.abs().sum() > 0


def test_default_vit_t_forward_256():
    model = TinyViT(img_size=256).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 256, 256))
    assert out.shape == (1, 256, 16, 16)
    assert torch.isfinite(out).all()
