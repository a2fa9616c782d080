"""bf16 mixed-precision training (``optim_wrapper.type='BF16OptimWrapper'``, #17): one PointSAM
iteration's LoRA gradients point where fp32's do; weights, gradients, optimizer state and losses
stay fp32; the encoder and decoder passes of teacher and student really run in bf16. The
iteration tests run on CPU, and on CUDA too where there is a GPU (not run here: no GPU)."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import shrink_config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmpointsam.engine.optimizers import BF16OptimWrapper
from mmpointsam.models.sam import prompt_batched_decoder
from mmpointsam.models.self_training.npc import pairwise_mask_iou
from mmpointsam.registry import DATASETS, MODELS


def _build(cfg, device):
    """Tiny PointSAM (NPC + PBR with a full bank) with non-zero LoRA B, as after some training:
    at LoRA's init (B = 0) lora_A would get no gradient and the test would see B alone."""
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    reg = model.self_training.prototype_loss
    reg.set_targets(torch.randn(16, 32))
    reg.bank.push(torch.randn(reg.bank.size, 32))
    gen = torch.Generator().manual_seed(1)
    for name, p in model.named_parameters():
        if 'lora_B' in name:
            p.data.copy_(torch.randn(p.shape, generator=gen) * 0.02)
    return model.to(device).train()


def _one_iteration(cfg, batch, wrapper_type, monkeypatch, device):
    """``model.train_step`` (MMEngine's) with Adam; records gradients before the step, the loss
    terms and the dtypes of the encoder and decoder outputs, with and without autograd."""
    model = _build(cfg, device)
    params = [p for p in model.parameters() if p.requires_grad]
    wrapper = wrapper_type(optimizer=torch.optim.Adam(params, lr=5e-4, weight_decay=1e-4))
    rec = dict(encoder=[], decoder=[])
    # a LoRA linear inside the encoder (its fp32 LayerNorm neck hides the dtype at the output)
    lora_b = next(
        m for n, m in model.sam.image_encoder.named_modules() if n.endswith('lora_B.default')
    )
    lora_b.register_forward_hook(
        lambda m, i, out: rec['encoder'].append((torch.is_grad_enabled(), out.dtype))
    )
    predict_masks = prompt_batched_decoder.predict_masks

    def recording_predict_masks(*args, **kwargs):
        out = predict_masks(*args, **kwargs)
        rec['decoder'].append((torch.is_grad_enabled(), out[0].dtype))
        return out

    monkeypatch.setattr(prompt_batched_decoder, 'predict_masks', recording_predict_masks)
    parse_losses, step = model.parse_losses, wrapper.step

    def recording_parse_losses(losses):
        rec['losses'] = {k: v.dtype for k, v in losses.items()}
        loss, log_vars = parse_losses(losses)
        rec['loss'] = loss.dtype
        return loss, log_vars

    def recording_step(**kwargs):
        rec['grads'] = {
            n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None
        }
        step(**kwargs)

    model.parse_losses, wrapper.step = recording_parse_losses, recording_step
    rec['log_vars'] = model.train_step(copy.deepcopy(batch), wrapper)
    monkeypatch.undo()
    return model, wrapper, rec


@pytest.fixture(
    scope='module',
    params=[
        'cpu',
        pytest.param(
            'cuda',
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU'),
        ),
    ],
)
def fp32_and_bf16(request, tmp_path_factory):
    init_default_scope('mmpointsam')
    cfg = shrink_config(
        'pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path_factory.mktemp('bf16'))
    )
    cfg.model.self_training.prototype_loss.target_prototypes = None
    # the student's own weights teach (the -paper teacher), so one LoRA module sees both passes
    cfg.model.self_training.teacher = dict(type='CurrentWeightsTeacher')
    # fixed inputs: the pipeline draws flips, views and points from numpy's RNG (module-scoped,
    # so the function-level seeding of conftest has not run yet)
    np.random.seed(0)
    torch.manual_seed(0)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([dataset[0], dataset[1]])  # the same views for both runs
    monkeypatch = pytest.MonkeyPatch()
    runs = {
        name: _one_iteration(cfg, batch, wrapper, monkeypatch, request.param)
        for name, wrapper in (('fp32', OptimWrapper), ('bf16', BF16OptimWrapper))
    }
    return runs


def test_bf16_runs_teacher_student_encoder_and_decoder_in_bf16(fp32_and_bf16):
    rec32, rec16 = fp32_and_bf16['fp32'][2], fp32_and_bf16['bf16'][2]
    # the teacher's no-grad pass on the weak view, then the student's LoRA pass on the strong one
    assert rec16['encoder'] == [(False, torch.bfloat16), (True, torch.bfloat16)]
    assert rec32['encoder'] == [(False, torch.float32), (True, torch.float32)]
    # teacher, NPC's re-decode (random weights: overlapping masks), student chunks: all bf16
    assert {grad for grad, _ in rec16['decoder']} == {False, True}
    assert {dtype for _, dtype in rec16['decoder']} == {torch.bfloat16}
    assert {dtype for _, dtype in rec32['decoder']} == {torch.float32}


def test_bf16_lora_gradients_agree_with_fp32_in_direction(fp32_and_bf16):
    g32, g16 = fp32_and_bf16['fp32'][2]['grads'], fp32_and_bf16['bf16'][2]['grads']
    lora = sorted(n for n in g32 if 'lora_' in n)
    assert lora and sorted(g16) == sorted(g32) == lora  # only LoRA trains in PointSAM
    flat32 = torch.cat([g32[n].flatten() for n in lora])
    flat16 = torch.cat([g16[n].flatten() for n in lora])
    # The direction over all LoRA weights is the claim. A single 256-weight tensor is looser: the
    # random-weight teacher's logits sit near 0, so bf16 can binarise a few pseudo-label pixels
    # differently, and how many depends on the CPU's bf16 kernels. Measured worst tensor: 0.9986
    # on the development machine (AVX512-BF16/AMX), 0.9862 on the CI machine.
    assert F.cosine_similarity(flat32, flat16, dim=0) >= 0.99
    for n in lora:
        assert F.cosine_similarity(g32[n].flatten(), g16[n].flatten(), dim=0) >= 0.95, n
    assert not torch.equal(flat32, flat16)  # bf16 did change the arithmetic
    log32, log16 = fp32_and_bf16['fp32'][2]['log_vars'], fp32_and_bf16['bf16'][2]['log_vars']
    assert abs(float(log16['loss']) - float(log32['loss'])) < 0.01 * float(log32['loss'])


def test_bf16_keeps_weights_gradients_optimizer_state_and_losses_fp32(fp32_and_bf16):
    model, wrapper, rec = fp32_and_bf16['bf16']
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(g.dtype == torch.float32 for g in rec['grads'].values())
    states = list(wrapper.optimizer.state.values())
    assert len(states) == len(rec['grads'])  # Adam stepped every LoRA weight
    assert all(s['exp_avg'].dtype == s['exp_avg_sq'].dtype == torch.float32 for s in states)
    assert set(rec['losses']) >= {'loss_focal', 'loss_dice', 'loss_iou', 'loss_pbr'}
    assert all(dtype == torch.float32 for dtype in rec['losses'].values())
    assert rec['loss'] == torch.float32


def test_npc_pixel_counts_stay_exact_under_bf16_autocast():
    masks = torch.zeros(2, 32, 32, dtype=torch.bool)
    masks[0, :, :9] = True  # 288 pixels
    masks[1, :, 1:10] = True  # 288 pixels, 256 shared; 257+ are not bf16 numbers
    masks[1, 0, 10] = True  # 289
    expected = pairwise_mask_iou(masks, torch.zeros(2, dtype=torch.long))
    assert expected[0, 1] == pytest.approx(256 / (288 + 289 - 256))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.equal(pairwise_mask_iou(masks, torch.zeros(2, dtype=torch.long)), expected)


def test_bf16_config_switch_trains_through_the_runner(tmp_path, tiny_cfg):
    cfg = tiny_cfg('pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    cfg.optim_wrapper.type = 'BF16OptimWrapper'  # the switch
    cfg.model.self_training.prototype_loss = None  # no target prototypes file here
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=1000)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2)
    cfg.log_processor = dict(by_epoch=False)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    lora = {n: p.detach().clone() for n, p in runner.model.named_parameters() if p.requires_grad}
    runner.train()
    assert isinstance(runner.optim_wrapper, BF16OptimWrapper)
    after = dict(runner.model.named_parameters())
    assert all(after[n].dtype == torch.float32 for n in lora)
    assert any(not torch.equal(after[n], v) for n, v in lora.items())  # it learned
    assert (tmp_path / 'iter_2.pth').exists()


def test_train_precision_switch():
    from mmengine.config import Config

    from mmpointsam.utils import set_mixed_precision

    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='AdamW'))))
    set_mixed_precision(cfg, None)
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    set_mixed_precision(cfg, 'bf16')
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper' and 'loss_scale' not in cfg.optim_wrapper
    # fp16 (--amp) is MMEngine's AmpOptimWrapper, which asserts a GPU: refused on a CPU, with
    # the switch that works there
    with pytest.raises(RuntimeError, match='--bf16'):
        set_mixed_precision(cfg, 'fp16', cuda=False)
    set_mixed_precision(cfg, 'fp16', cuda=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    with pytest.raises(ValueError, match='optim_wrapper'):
        set_mixed_precision(Config(dict(model=dict())), 'bf16')
