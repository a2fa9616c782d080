"""The fused attention on CUDA (rel-pos folded into one mask-free SDPA call, forward and
backward) against segment-anything's attention, in fp32 and under bf16 autocast. Skipped
without a GPU; `make test-gpu` runs it."""

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


def _rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item()


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_fused_lora_sam_matches_reference_on_cuda(dtype):
    from mmpointsam.models.sam import build_sam

    lora = dict(r=2, targets=('q', 'v'))
    torch.manual_seed(0)
    fused = build_sam(dict(arch='tiny', img_size=128, lora=lora)).cuda()
    ref = build_sam(dict(arch='tiny', img_size=128, lora=lora, attention='reference')).cuda()
    with torch.no_grad():
        for p in fused.parameters():
            p.normal_(std=0.2)
    ref.load_state_dict(fused.state_dict(), strict=True)
    x = torch.randn(2, 3, 128, 128, device='cuda')
    outs, grads = [], []
    for model in (fused, ref):
        with torch.autocast('cuda', dtype=dtype, enabled=dtype != torch.float32):
            out = model.image_encoder(x).float()
        out.square().mean().backward()
        outs.append(out.detach())
        grads.append({n: p.grad for n, p in model.named_parameters() if p.grad is not None})
    tol = 1e-4 if dtype == torch.float32 else 5e-2
    assert _rel(outs[0], outs[1]) < tol
    for name, g in grads[0].items():
        assert _rel(g, grads[1][name]) < 10 * tol, name
