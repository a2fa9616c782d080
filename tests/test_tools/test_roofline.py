"""tools/benchmark/roofline.py: FLOP counting and the attention / linear / rest split."""

import argparse
import importlib.util
import os.path as osp

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def roofline():
    spec = importlib.util.spec_from_file_location(
        'roofline', osp.join(ROOT, 'tools', 'benchmark', 'roofline.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flops_count_the_encoder_linears_and_attention(roofline):
    # tiny: 2 blocks of width 64 on a 4 x 4 grid (img 64); LoRA adds the backward
    encoder = roofline.count_flops('tiny', 'encoder', 64, 2)
    lora = roofline.count_flops('tiny', 'lora', 64, 2)
    tokens, dim = 16, 64
    linears = 2 * 2 * tokens * dim * (3 * dim + dim + 2 * 4 * dim)  # qkv, proj, MLP per block
    assert encoder > linears
    assert lora > encoder  # the backward of the trained blocks is counted too
    assert roofline.count_flops('tiny', 'decoder', 64, 2) > 0


@pytest.mark.parametrize('attention', ['reference', 'fused'])
def test_time_shares_split_attention_linear_rest(roofline, attention):
    torch.manual_seed(0)
    model = roofline.build('tiny', 64, attention, True, 'cpu')
    run = roofline.part_fn(model, 'lora', torch.float32, 64, 2, 'cpu')
    shares = roofline.time_shares(model, run, 'cpu')
    assert set(shares) == {'attention', 'linear', 'rest'}
    assert abs(sum(shares.values()) - 1) < 1e-6
    assert shares['attention'] > 0 and shares['linear'] > 0 and shares['rest'] > 0
    # hooks are removed afterwards
    assert not any(m._forward_pre_hooks for m in model.modules())


def test_batch_scales_flops_and_rows_give_images_per_second(roofline):
    one = roofline.count_flops('tiny', 'encoder', 64, 2)
    assert roofline.count_flops('tiny', 'encoder', 64, 2, batch=3) == pytest.approx(3 * one)
    args = argparse.Namespace(img_size=64, prompts=2, device='cpu', profile=False, reps=1)
    peaks = {'fp32': 1.0}
    rows = roofline.measure(args, 'tiny', 'encoder', 'fp32', ['fused'], peaks, 2 * one, batch=2)
    (row,) = rows
    assert row['batch'] == 2 and row['images_per_s'] == pytest.approx(2 / row['seconds'])
    assert row['memory_gb'] is None  # CUDA memory only
    cells = roofline.format_row(row).strip('|').split('|')
    assert len(cells) == 14 and cells[11].strip() == '2'
