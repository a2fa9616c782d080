"""PatchifyEmbed against segment-anything's PatchEmbed: same outputs, keys and gradients."""

import pytest
import torch
import torch.nn as nn
from segment_anything.modeling.image_encoder import PatchEmbed

from mmpointsam.models.sam import build_sam
from mmpointsam.models.sam.patch_embed import PatchifyEmbed


def _rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize('size', [(64, 64), (48, 80), (70, 37)])  # the last drops a remainder
def test_matches_segment_anything_patch_embed(size):
    torch.manual_seed(0)
    ref = PatchEmbed(kernel_size=(16, 16), stride=(16, 16), in_chans=3, embed_dim=24)
    fast = PatchifyEmbed(ref.proj)
    x = torch.randn(2, 3, *size, requires_grad=True)
    want, got = ref(x), fast(x)
    assert got.shape == want.shape == (2, size[0] // 16, size[1] // 16, 24)
    assert got.is_contiguous() and not want.is_contiguous()  # the point: tokens-last in memory
    assert _rel(got, want) < 1e-5
    grad = torch.randn_like(want)
    g_want = torch.autograd.grad(want, [x, ref.proj.weight], grad)
    g_got = torch.autograd.grad(got, [x, ref.proj.weight], grad)
    for a, b in zip(g_got, g_want):
        assert _rel(a, b) < 1e-5


def test_rejects_overlapping_convolution():
    with pytest.raises(ValueError, match='kernel == stride'):
        PatchifyEmbed(nn.Conv2d(3, 8, 7, stride=4, padding=3))


def test_fused_sam_uses_it_and_keeps_checkpoint_keys():
    fused = build_sam(dict(arch='tiny', img_size=64))
    ref = build_sam(dict(arch='tiny', img_size=64, attention='reference'))
    assert isinstance(fused.image_encoder.patch_embed, PatchifyEmbed)
    assert isinstance(ref.image_encoder.patch_embed, PatchEmbed)  # the modules as written
    assert set(fused.state_dict()) == set(ref.state_dict())
    assert 'image_encoder.patch_embed.proj.weight' in fused.state_dict()
