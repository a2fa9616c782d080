"""SAM 2.1 (Hiera) image model against the official ``sam2`` package's own model, built from the
package's yaml configs (no weights download): key/shape layout, strict loading, equal outputs
with SAM2ImagePredictor's image path, LoRA on Hiera and its merged export."""

import importlib.util
import os.path as osp

import pytest
import torch

pytest.importorskip('sam2')

from conftest import REPO, config_of, shrink_config  # noqa: E402
from mmengine.config import Config  # noqa: E402

from mmpointsam.models.sam.sam2 import (  # noqa: E402
    SAM2,
    VIDEO_ONLY_PREFIXES,
    is_video_only_key,
    pack_features,
    unpack_features,
)
from mmpointsam.registry import MODELS  # noqa: E402
from mmpointsam.utils import register_all_modules  # noqa: E402

# the tiny Hiera of ARCH_SETTINGS['tiny'] with a 32-wide neck at 128 px, and build_sam2's
# post-processing (dynamic multimask fallback), as overrides of the package's B+ yaml
TINY_OVERRIDES = [
    'model.image_size=128',
    'model.image_encoder.trunk.embed_dim=16',
    'model.image_encoder.trunk.num_heads=1',
    '++model.image_encoder.trunk.stages=[1,1,2,1]',
    '++model.image_encoder.trunk.global_att_blocks=[3]',
    '++model.image_encoder.trunk.window_pos_embed_bkg_spatial_size=[4,4]',
    '++model.image_encoder.trunk.window_spec=[4,2,2,2]',
    'model.image_encoder.neck.d_model=32',
    'model.image_encoder.neck.backbone_channel_list=[128,64,32,16]',
    'model.image_encoder.neck.position_encoding.num_pos_feats=32',
    '++model.sam_mask_decoder_extra_args.dynamic_multimask_via_stability=true',
    '++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_delta=0.05',
    '++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_thresh=0.98',
]
# SAM2Base fixes the decoder's MLP width, heads and IoU head; only the width follows the neck
OFFICIAL_DECODER_32 = dict(embed_dim=32, mlp_dim=2048, num_heads=8, iou_head_hidden_dim=256)


def official_sam2(yaml: str, overrides=()):
    """``SAM2Base`` from the package's own config, as build_sam2 makes it (no checkpoint)."""
    from hydra import compose
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = compose(config_name=f'configs/sam2.1/sam2.1_hiera_{yaml}.yaml', overrides=list(overrides))
    OmegaConf.resolve(cfg)
    return instantiate(cfg.model, _recursive_=True)


def _shapes(state):
    return {k: tuple(v.shape) for k, v in state.items()}


@pytest.fixture(scope='module')
def official_tiny():
    torch.manual_seed(1)
    model = official_sam2('b+', TINY_OVERRIDES).eval()
    with torch.no_grad():  # off the zero-initialised position embeddings
        for param in model.parameters():
            param.add_(0.02 * torch.randn_like(param))
    return model


def _tiny_from(official, tmp_path, **kwargs) -> SAM2:
    ckpt = tmp_path / 'sam2.1_tiny.pt'
    torch.save(dict(model=official.state_dict()), ckpt)  # the official file's structure
    model = SAM2(
        arch='tiny',
        img_size=128,
        decoder=OFFICIAL_DECODER_32,
        init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)),
        **kwargs,
    )
    model.init_weights()
    return model.eval()


def _official_predict(
    official, images, batch_idx, points, labels, boxes=None, multimask_output=False
):
    """SAM2ImagePredictor.set_image + _predict on already normalised images."""
    with torch.no_grad():
        out = official.forward_image(images)
        _, feats, _, sizes = official._prepare_backbone_features(out)
        feats[-1] = feats[-1] + official.no_mem_embed
        s0, s1, emb = [
            f.permute(1, 2, 0).reshape(len(images), -1, *s) for f, s in zip(feats, sizes)
        ]
        masks, ious = [], []
        for i in range(len(batch_idx)):
            b = int(batch_idx[i])
            pts, lbl = points[i : i + 1], labels[i : i + 1]
            if boxes is not None:
                pts = torch.cat([boxes[i : i + 1].reshape(1, 2, 2), pts], 1)
                lbl = torch.cat([torch.tensor([[2, 3]]), lbl], 1)
            sparse, dense = official.sam_prompt_encoder(points=(pts, lbl), boxes=None, masks=None)
            m, iou, _, _ = official.sam_mask_decoder(
                image_embeddings=emb[b : b + 1],
                image_pe=official.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask_output,
                repeat_image=False,
                high_res_features=[s0[b : b + 1], s1[b : b + 1]],
            )
            masks.append(m[0]), ious.append(iou[0])
    return torch.stack(masks), torch.stack(ious)


@pytest.mark.parametrize(
    'arch,yaml', [('hiera_t', 't'), ('hiera_s', 's'), ('hiera_b+', 'b+'), ('hiera_l', 'l')]
)
def test_layout_matches_official_sam2_1(arch, yaml):
    official = _shapes(official_sam2(yaml).state_dict())
    ours = _shapes(SAM2(arch=arch).state_dict())
    assert {k: official.get(k) for k in ours} == ours  # every tensor, same name and shape
    skipped = set(official) - set(ours)
    assert skipped == {k for k in official if is_video_only_key(k)}
    for prefix in VIDEO_ONLY_PREFIXES:  # the documented list names real tensors
        assert any(is_video_only_key(k) and k.startswith(prefix.rstrip('.')) for k in skipped)


def test_official_file_loads_strictly_and_matches_the_official_image_path(tmp_path, official_tiny):
    ours = _tiny_from(official_tiny, tmp_path)
    state = official_tiny.state_dict()
    for key, value in ours.state_dict().items():
        assert torch.equal(value, state[key]), key
    images = torch.randn(2, 3, 128, 128)
    batch_idx = torch.tensor([0, 1, 1, 0, 1])
    points = torch.rand(5, 2, 2) * 128
    labels = torch.tensor([[1, -1], [1, 0], [1, 1], [1, 0], [1, -1]])
    boxes = torch.tensor(
        [
            [10.0, 20.0, 60.0, 90.0],
            [0.0, 0.0, 127.0, 127.0],
            [30.0, 30.0, 50.0, 40.0],
            [5.0, 70.0, 40.0, 120.0],
            [64.0, 0.0, 120.0, 60.0],
        ]
    )
    with torch.no_grad():
        encoded = ours.encode(images)
    for batched in (True, False):
        ours.prompt_batched_decoder = batched
        for kwargs in (dict(), dict(boxes=boxes)):
            ref_masks, ref_iou = _official_predict(
                official_tiny, images, batch_idx, points, labels, **kwargs
            )
            with torch.no_grad():
                logits, iou = ours.decode(encoded, batch_idx, points, labels, **kwargs)
            assert logits.shape == (5, 32, 32)
            assert torch.allclose(logits, ref_masks[:, 0], atol=1e-4)
            assert torch.allclose(iou, ref_iou[:, 0], atol=1e-5)
        ref_masks, ref_iou = _official_predict(
            official_tiny, images, batch_idx, points, labels, multimask_output=True
        )
        with torch.no_grad():
            logits, iou = ours.decode(
                encoded, batch_idx, points, labels, multimask_output=True, all_masks=True
            )
        assert torch.allclose(logits, ref_masks, atol=1e-4)
        assert torch.allclose(iou, ref_iou, atol=1e-5)


def test_checkpoint_faults_are_named(tmp_path, official_tiny):
    state = official_tiny.state_dict()
    model = SAM2(arch='tiny', img_size=128, decoder=OFFICIAL_DECODER_32)
    extra = dict(state, **{'memory_bank.weight': torch.zeros(1)})  # not a documented video key
    torch.save(dict(model=extra), tmp_path / 'extra.pt')
    with pytest.raises(RuntimeError, match=r"1 unexpected keys \['memory_bank.weight'\]"):
        model.load_checkpoint(str(tmp_path / 'extra.pt'))
    torch.save(
        dict(model={k: v for k, v in state.items() if k != 'no_mem_embed'}), tmp_path / 'missing.pt'
    )
    with pytest.raises(RuntimeError, match=r"1 missing keys \['no_mem_embed'\]"):
        model.load_checkpoint(str(tmp_path / 'missing.pt'))
    torch.save(dict(model=SAM2(arch='tiny', img_size=128).state_dict()), tmp_path / 'narrow.pt')
    with pytest.raises(RuntimeError, match='differ in shape'):
        model.load_checkpoint(str(tmp_path / 'narrow.pt'))


def test_packed_features_are_exact_and_computed_once_per_image():
    emb, s1, s0 = torch.randn(2, 32, 8, 8), torch.randn(2, 8, 16, 16), torch.randn(2, 4, 32, 32)
    packed = pack_features(emb, s1, s0)
    assert packed.shape == (2, 128, 8, 8)
    for a, b in zip(unpack_features(packed), (emb, s1, s0)):
        assert torch.equal(a, b)
    model = SAM2(arch='tiny', img_size=128).eval()
    assert torch.equal(model.image_embedding(packed), emb)
    calls = []
    for conv in (model.sam_mask_decoder.conv_s0, model.sam_mask_decoder.conv_s1):
        conv.register_forward_hook(lambda *args: calls.append(1))
    with torch.no_grad():
        encoded = model.encode(torch.randn(2, 3, 128, 128))
        assert len(calls) == 2  # one batched call per map
        model.decode(
            encoded,
            torch.tensor([0] * 7 + [1] * 5),
            torch.rand(12, 1, 2) * 128,
            torch.ones(12, 1, dtype=torch.long),
        )
    assert len(calls) == 2  # decoding 12 prompts reuses them


def test_lora_on_hiera_q_and_v_from_first_block():
    model = SAM2(arch='tiny', img_size=128, lora=dict(r=2, first_block=3))
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == sorted(
        f'image_encoder.trunk.blocks.{b}.attn.qkv.{p}.lora_{ab}.default.weight'
        for b in (3, 4)
        for p in 'qv'
        for ab in 'AB'
    )
    # block 4 starts the last stage: its fused qkv widens 64 -> 3 x 128
    assert model.image_encoder.trunk.blocks[4].attn.qkv.q.base_layer.weight.shape == (128, 64)
    encoded = model.encode(torch.randn(1, 3, 128, 128))
    logits, _ = model.decode(
        encoded,
        torch.zeros(2, dtype=torch.long),
        torch.rand(2, 1, 2) * 128,
        torch.ones(2, 1, dtype=torch.long),
    )
    logits.sum().backward()
    for name, param in model.named_parameters():
        if 'lora_B' in name:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
        elif not param.requires_grad:
            assert param.grad is None, name
    model = SAM2(arch='tiny', trainable=('mask_decoder',))
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all(n.startswith('sam_mask_decoder.') for n in names)


def test_merge_lora_tool_writes_a_file_the_official_model_loads(tmp_path, official_tiny):
    spec = importlib.util.spec_from_file_location(
        'merge_lora', osp.join(REPO, 'tools', 'model_converters', 'merge_lora.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    register_all_modules()
    cfg = shrink_config(
        'supervised/supervised_sam2.1-hiera-b+-lora_10e_nwpu.py', str(tmp_path), img_size=128
    )
    cfg.model.sam.update(decoder=OFFICIAL_DECODER_32, lora=dict(first_block=0))
    cfg.dump(str(tmp_path / 'cfg.py'))
    model = MODELS.build(cfg.model)
    model.sam.load_state_dict(_tiny_from(official_tiny, tmp_path).state_dict(), strict=False)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'lora_B' in name:
                param.normal_(std=0.1)  # a "trained" adapter
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), tmp_path / 'trained.pth')
    out = tmp_path / 'sam2_merged.pt'
    tool.merge_lora(str(tmp_path / 'cfg.py'), str(tmp_path / 'trained.pth'), str(out))

    official = official_sam2('b+', TINY_OVERRIDES).eval()
    result = official.load_state_dict(torch.load(out)['model'], strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == {k for k in official.state_dict() if is_video_only_key(k)}
    # with the starting file's video tensors, sam2's own loader (strict) takes it
    torch.save(dict(model=official_tiny.state_dict()), tmp_path / 'start.pt')
    full = tmp_path / 'sam2_full.pt'
    tool.merge_lora(
        str(tmp_path / 'cfg.py'),
        str(tmp_path / 'trained.pth'),
        str(full),
        sam2_video_weights=str(tmp_path / 'start.pt'),
    )
    from sam2.build_sam import _load_checkpoint

    _load_checkpoint(official, str(full))
    assert torch.equal(
        official.memory_encoder.out_proj.weight, official_tiny.memory_encoder.out_proj.weight
    )
    images = torch.randn(1, 3, 128, 128)
    points, labels = torch.rand(3, 1, 2) * 128, torch.ones(3, 1, dtype=torch.long)
    batch_idx = torch.zeros(3, dtype=torch.long)
    ref, _ = _official_predict(official, images, batch_idx, points, labels)
    model.eval()
    with torch.no_grad():
        adapted, _ = model.sam.decode(model.sam.encode(images), batch_idx, points, labels)
        plain_sam = _tiny_from(official_tiny, tmp_path)
        plain, _ = plain_sam.decode(plain_sam.encode(images), batch_idx, points, labels)
    assert torch.allclose(adapted, ref[:, 0], atol=1e-4)
    assert not torch.allclose(plain, adapted, atol=1e-3)  # the adapter changed the model


def test_sam2_rows_parse_and_build(tmp_path):
    register_all_modules()
    # (SAM 2.1 row, its ViT-B twin); 2 or 3 points are --num-points (tests/test_configs.py)
    rows = [
        (config_of(m, ds, 'sam2.1-hiera-b+'), config_of(m, ds))
        for ds in ('nwpu', 'whu', 'hrsid')
        for m in ('sam_direct', 'supervised', 'selftrain', 'pointsam', 'resam')
    ]
    for row, vit_row in rows:
        cfg = Config.fromfile(osp.join(REPO, 'configs', row))
        sam = cfg.model.sam
        assert (sam.type, sam.arch, sam.init_cfg.checkpoint) == (
            'SAM2',
            'hiera_b+',
            'checkpoints/sam2.1_hiera_base_plus.pt',
        ), row
        vit = Config.fromfile(osp.join(REPO, 'configs', vit_row))
        # the ViT-B row with only the model swapped; LoRA from the same depth (2x the blocks)
        if vit.model.sam.get('lora'):
            assert sam.lora.first_block == 2 * vit.model.sam.lora.first_block
            assert (sam.lora.r, sam.lora.targets) == (
                vit.model.sam.lora.r,
                vit.model.sam.lora.targets,
            )
        else:
            assert sam.get('lora') is None
        assert cfg.get('num_points') == vit.get('num_points')
        assert cfg.train_dataloader == vit.train_dataloader
        assert (
            cfg.model.get('self_training', {}).keys() == vit.model.get('self_training', {}).keys()
        )
        if 'prototype_loss' in cfg.model.get('self_training', {}):
            assert cfg.model.self_training.prototype_loss.target_prototypes.endswith('_sam2_b+.pth')
    protos = tmp_path / 'protos.pth'
    torch.save(dict(prototypes=torch.randn(4, 32)), protos)  # the tiny decoder's width
    for row, _ in rows:  # each row builds (tiny Hiera, random weights)
        cfg = shrink_config(row, str(tmp_path))
        if 'prototype_loss' in cfg.model.get('self_training', {}):
            cfg.model.self_training.prototype_loss.target_prototypes = str(protos)
        model = MODELS.build(cfg.model)
        assert isinstance(model.sam, SAM2)


def test_inferencer_reads_a_plain_sam2_file(tmp_path):
    from conftest import NWPU

    from mmpointsam.apis import PointSAMInferencer

    path = tmp_path / 'sam2.1_hiera_tiny.pt'
    torch.save(dict(model=SAM2(arch='hiera_t', img_size=256).state_dict()), path)
    inferencer = PointSAMInferencer(checkpoint=str(path), img_size=256, device='cpu')
    assert isinstance(inferencer.model.sam, SAM2)
    assert inferencer.model.sam.arch_name == 'hiera_t'  # 96 wide, 12 blocks (small has 16)
    result = inferencer(osp.join(NWPU, 'images', '140.jpg'), [[50, 60], [200, 100]])
    assert result.full_masks().shape[0] == 2


def test_prompt_batched_decoder_gradients_equal_sam2s_own():
    """Training decodes with the prompt-batched path: its gradients w.r.t. the packed features
    (embedding and high-resolution maps) and the decoder's weights are sam2's."""
    torch.manual_seed(2)
    model = SAM2(arch='tiny', img_size=128, trainable=('mask_decoder',)).train()
    encoded = torch.randn(2, 128, 8, 8)
    batch_idx = torch.tensor([1, 0, 1, 1])
    points = torch.rand(4, 3, 2) * 128
    labels = torch.tensor([[1, 0, -1], [1, 1, 0], [1, -1, -1], [1, 0, 0]])
    grads = []
    for batched in (True, False):
        model.prompt_batched_decoder = batched
        model.zero_grad()
        feats = encoded.clone().requires_grad_()
        logits, iou = model.decode(feats, batch_idx, points, labels)
        (logits.sigmoid().mean() + iou.sum()).backward()
        # None: not used (the batched path skips unselected mask tokens; sam2's gives zeros)
        grads.append(
            [feats.grad]
            + [
                torch.zeros_like(p) if p.grad is None else p.grad
                for p in model.sam_mask_decoder.parameters()
            ]
        )
    assert grads[0][0].abs().sum() > 0
    assert grads[0][0][:, 32:].abs().sum() > 0  # the high-resolution maps get gradients too
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)
