import pytest
import torch

from mmpointsam.models.sam import build_sam
from mmpointsam.models.sam.lora import SplitQKV, attention_qkv_names


def test_only_lora_trainable_and_gradients_reach_it():
    model = build_sam(dict(arch='tiny', img_size=128, lora=dict(r=2, first_block=1)))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n for n in trainable)
    # q and v of block 1 only (block 0 is before first_block)
    assert sorted(trainable) == sorted(
        [
            'image_encoder.blocks.1.attn.qkv.q.lora_A.default.weight',
            'image_encoder.blocks.1.attn.qkv.q.lora_B.default.weight',
            'image_encoder.blocks.1.attn.qkv.v.lora_A.default.weight',
            'image_encoder.blocks.1.attn.qkv.v.lora_B.default.weight',
        ]
    )
    emb = model.encode(torch.randn(1, 3, 128, 128))
    logits, _ = model.decode(
        emb,
        torch.zeros(2, dtype=torch.long),
        torch.rand(2, 1, 2) * 128,
        torch.ones(2, 1, dtype=torch.long),
    )
    logits.sum().backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            # B starts at zero, so A gets no gradient at step 0, but B must
            if 'lora_B' in name:
                assert param.grad is not None and param.grad.abs().sum() > 0, name
        else:
            assert param.grad is None, name


def test_trainable_prefixes_and_explicit_blocks():
    model = build_sam(
        dict(
            arch='tiny',
            img_size=128,
            lora=dict(r=2, blocks=[0], targets=('q', 'k', 'v')),
            trainable=('mask_decoder',),
        )
    )
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(n.startswith('mask_decoder.') for n in names)
    assert not any(n.startswith('prompt_encoder.') for n in names)
    assert {n for n in names if 'lora_A' in n} == {
        f'image_encoder.blocks.0.attn.qkv.{p}.lora_A.default.weight' for p in 'qkv'
    }


def test_lora_starts_as_identity_and_merge_is_exact():
    torch.manual_seed(0)
    plain = build_sam(dict(arch='tiny', img_size=128)).eval()
    lora = build_sam(
        dict(arch='tiny', img_size=128, lora=dict(r=2, first_block=0, targets=('q', 'v', 'proj')))
    )
    lora.load_state_dict(plain.state_dict(), strict=False)
    lora.eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(plain.encode(x), lora.encode(x), atol=1e-5)
        for name, param in lora.named_parameters():
            if 'lora_B' in name:
                param.normal_()
        adapted = lora.encode(x)
    merged = lora.export_state_dict()
    assert merged.keys() == plain.state_dict().keys()
    plain.load_state_dict(merged, strict=True)
    with torch.no_grad():
        assert torch.allclose(plain.encode(x), adapted, atol=1e-4)


def test_split_qkv_equals_fused():
    fused = torch.nn.Linear(8, 24)
    split = SplitQKV(fused)
    x = torch.randn(3, 8)
    assert torch.allclose(split(x), fused(x), atol=1e-6)


def test_lora_on_tiny_vit_blocks_in_forward_order():
    model = build_sam(dict(arch='vit_t', img_size=256, lora=dict(r=2, first_block=8)))
    names = attention_qkv_names(model.image_encoder)
    assert len(names) == 10
    adapted = {n.rsplit('.lora_A', 1)[0] for n, p in model.named_parameters() if 'lora_A' in n}
    assert adapted == {f'image_encoder.{names[i]}.{p}' for i in (8, 9) for p in 'qv'}


def test_bad_lora_config():
    with pytest.raises(ValueError, match='first_block=5'):
        build_sam(dict(arch='tiny', lora=dict(first_block=5)))
    with pytest.raises(ValueError, match='targets'):
        build_sam(dict(arch='tiny', lora=dict(targets=('x',))))
