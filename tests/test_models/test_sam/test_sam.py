import json
import os.path as osp

import pytest
import torch
from segment_anything import sam_model_registry

from mmpointsam.models.sam import SAM, build_sam
from mmpointsam.models.sam.lora import SplitQKV

LAYOUT = osp.join(
    osp.dirname(__file__), '../../data', 'checkpoint_layouts', 'mobile_sam_vit_t_keys_shapes.json'
)


def _shapes(state):
    return {k: list(v.shape) for k, v in state.items()}


@pytest.mark.parametrize('arch', ['vit_b', 'vit_l', 'vit_h'])
def test_vit_layout_matches_segment_anything(arch):
    # build on the meta device: shapes without memory
    with torch.device('meta'):
        ours = SAM(arch=arch)
        official = sam_model_registry[arch]()
    assert _shapes(ours.state_dict()) == _shapes(official.state_dict())


def test_vit_t_layout_matches_mobile_sam_checkpoint():
    with open(LAYOUT) as f:
        expected = json.load(f)
    with torch.device('meta'):
        ours = SAM(arch='vit_t')
    assert _shapes(ours.state_dict()) == expected


def _fake_checkpoint(model: torch.nn.Module, path):
    state = {}
    for key, value in model.state_dict().items():
        if value.dtype.is_floating_point:
            state[key] = torch.randn_like(value)
        else:
            state[key] = value.clone()
    torch.save(state, path)
    return state


def test_strict_load_official_vit_b_into_lora_model(tmp_path):
    official = sam_model_registry['vit_b']()
    ckpt = tmp_path / 'sam_vit_b.pth'
    state = _fake_checkpoint(official, ckpt)
    model = SAM(
        arch='vit_b',
        img_size=1024,
        lora=dict(r=2, first_block=10),
        init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)),
    )
    model.init_weights()
    fused = state['image_encoder.blocks.11.attn.qkv.weight']
    attn = model.image_encoder.blocks[11].attn
    assert isinstance(attn.qkv, SplitQKV)
    assert torch.equal(attn.qkv.q.base_layer.weight, fused[:768])
    assert torch.equal(attn.qkv.k.weight, fused[768:1536])
    assert torch.equal(attn.qkv.v.base_layer.weight, fused[1536:])
    # blocks before first_block keep the fused layer and its weights
    assert torch.equal(
        model.image_encoder.blocks[0].attn.qkv.weight,
        state['image_encoder.blocks.0.attn.qkv.weight'],
    )
    # the export is the official layout again, and equal to the file (LoRA B starts at zero)
    exported = model.export_state_dict()
    assert exported.keys() == state.keys()
    for key in state:
        assert torch.allclose(exported[key], state[key]), key


def test_strict_load_mobile_sam_layout(tmp_path):
    with open(LAYOUT) as f:
        layout = json.load(f)
    state = {
        k: (
            torch.zeros(v, dtype=torch.long)
            if k.endswith('num_batches_tracked')
            else torch.randn(v)
        )
        for k, v in layout.items()
    }
    ckpt = tmp_path / 'mobile_sam.pt'
    torch.save(state, ckpt)
    model = SAM(
        arch='vit_t',
        img_size=256,
        lora=dict(r=4, first_block=5),
        init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)),
    )
    # TinyViT's parameters do not depend on the input size (attention biases are per window),
    # so the 1024 checkpoint also loads into a 256 model
    model.init_weights()
    assert torch.equal(model.image_encoder.neck[0].weight, state['image_encoder.neck.0.weight'])


def test_strict_load_rejects_wrong_layout(tmp_path):
    model = build_sam('tiny')
    state = model.state_dict()
    state.pop('mask_decoder.iou_token.weight')
    state['extra.weight'] = torch.zeros(1)
    ckpt = tmp_path / 'broken.pth'
    torch.save(state, ckpt)
    other = build_sam(dict(arch='tiny', init_cfg=dict(type='Pretrained', checkpoint=str(ckpt))))
    with pytest.raises(RuntimeError, match=r'broken\.pth.*mask_decoder\.iou_token\.weight'):
        other.init_weights()


def test_missing_checkpoint_file_is_named(tmp_path):
    model = build_sam(
        dict(arch='tiny', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'nope.pth')))
    )
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        model.init_weights()


@pytest.mark.parametrize('arch,img_size', [('tiny', 128), ('tiny', 256), ('vit_t', 256)])
def test_encode_decode_shapes(arch, img_size):
    model = build_sam(dict(arch=arch, img_size=img_size)).eval()
    images = torch.randn(2, 3, img_size, img_size)
    with torch.no_grad():
        emb = model.encode(images)
        grid = img_size // 16
        assert emb.shape[-2:] == (grid, grid)
        points = torch.rand(5, 3, 2) * img_size
        labels = torch.tensor([[1, 0, -1]] * 5)
        batch_idx = torch.tensor([0, 1, 1, 0, 1])
        logits, iou = model.decode(emb, batch_idx, points, labels)
        assert logits.shape == (5, 4 * grid, 4 * grid)
        assert iou.shape == (5,)
        # batching over images is the same as decoding each image alone
        alone, alone_iou = model.decode(
            emb[1:], torch.zeros(3, dtype=torch.long), points[[1, 2, 4]], labels[[1, 2, 4]]
        )
        assert torch.allclose(logits[[1, 2, 4]], alone, atol=1e-5)
        assert torch.allclose(iou[[1, 2, 4]], alone_iou, atol=1e-5)
        multi, _ = model.decode(emb, batch_idx, points, labels, multimask_output=True)
        assert multi.shape == logits.shape


def test_decode_matches_segment_anything_predict_path():
    """Our batched decode equals SAM's own prompt encoder + mask decoder for one image."""
    model = build_sam(dict(arch='tiny', img_size=128)).eval()
    emb = torch.randn(1, 32, 8, 8)
    points = torch.tensor([[[10.0, 20.0], [60.0, 70.0]]])
    labels = torch.tensor([[1, 0]])
    with torch.no_grad():
        ours, ours_iou = model.decode(emb, torch.zeros(1, dtype=torch.long), points, labels)
        sparse, dense = model.prompt_encoder(points=(points, labels), boxes=None, masks=None)
        ref, ref_iou = model.mask_decoder(
            emb, model.prompt_encoder.get_dense_pe(), sparse, dense, multimask_output=False
        )
    assert torch.allclose(ours, ref[:, 0], atol=1e-6)
    assert torch.allclose(ours_iou, ref_iou[:, 0], atol=1e-6)


def test_bad_img_size():
    with pytest.raises(ValueError, match='multiple of 64'):
        build_sam(dict(arch='vit_t', img_size=1000))


def test_bf16_encoder_autocast_agrees_with_fp32():
    fp32 = build_sam(dict(arch='tiny', img_size=128)).eval()
    bf16 = build_sam(dict(arch='tiny', img_size=128, encoder_autocast='bf16')).eval()
    bf16.load_state_dict(fp32.state_dict())
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        a, b = fp32.encode(x), bf16.encode(x)
    assert b.dtype == torch.float32
    assert not torch.equal(a, b)  # it really ran in lower precision
    assert torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0) > 0.99
    with pytest.raises(ValueError, match='encoder_autocast'):
        build_sam(dict(arch='tiny', encoder_autocast='fp16'))
