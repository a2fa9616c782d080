"""How close SAM's image encoders run to the machine's matrix-multiply peak.

In one run: the practical GEMM peak per dtype (best of plain matmuls), then per model, part,
dtype and attention implementation the time, the FLOPs, the achieved GFLOP/s and share of that
peak, and the share of time in attention, linear layers and the rest.

    python tools/benchmark/roofline.py                       # vit_b, hiera_b+, vit_t; fp32, bf16
    python tools/benchmark/roofline.py --models vit_b --dtypes bf16 --parts encoder
    python tools/benchmark/roofline.py --models vit_t --img-size 512 --attention fused
    python tools/benchmark/roofline.py --models vit_b --parts encoder --compile encoder
    python tools/benchmark/roofline.py --device cuda         # untested here (no GPU)
    python tools/benchmark/roofline.py --device cuda --models vit_b --parts lora --batch 1 4 8

Parts: ``encoder`` (no-grad forward), ``lora`` (forward + backward with LoRA r=4 on q and v from
the block the repo's configs start at: vit_b 6, vit_t 5, hiera_b+ 12) and ``decoder`` (the
prompt-batched mask decoder over ``--prompts`` single-click prompts, no grad). Random weights,
``--batch`` images (default 1) of ``--img-size``. bf16 is autocast, as
``encoder_autocast='bf16'`` and ``BF16OptimWrapper`` run it.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on the meta device with
segment-anything's own attention: 2 per multiply-add of every matmul, linear, einsum and
convolution (elementwise ops, norms and softmax are not counted), so both attention
implementations are credited with the same work. Shares of time come from one
``torch.profiler`` run: self time of every op under an attention module's forward (or the
backward node of such an op) counts as attention, under an ``nn.Linear`` (also inside attention:
qkv, proj, LoRA) as linear, all else (norms, GELU, convolutions, copies, the decoder's
upsampling) as rest. Times are the minimum of ``--reps`` runs after that profiled one.
"""

import argparse
import os
import os.path as osp
import sys
import time
from collections import defaultdict
from contextlib import nullcontext

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

LORA_FIRST_BLOCK = {'vit_b': 6, 'vit_l': 6, 'vit_h': 6, 'vit_t': 5, 'hiera_b+': 12}
GEMM_SHAPES = ((4096, 768, 3072), (2048, 2048, 2048))
DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16}


def sync(device: str) -> None:
    """Wait for queued GPU work before reading the clock."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def best_time(fn, reps: int, device: str) -> float:
    """Minimum wall time of ``reps`` calls of ``fn`` (after whatever warmed it up)."""
    best = float('inf')
    for _ in range(reps):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def gemm_peak(dtype: torch.dtype, device: str, reps: int = 3) -> float:
    """Best GFLOP/s of plain (m x k) @ (k x n) matmuls in ``dtype``."""
    best = 0.0
    for m, k, n in GEMM_SHAPES:
        a = torch.randn(m, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        a @ b  # warm-up
        best = max(best, 2 * m * k * n / best_time(lambda: a @ b, reps, device) / 1e9)
    return best


# ---------------------------------------------------------------------------------- models
def build(arch: str, img_size: int, attention: str, lora: bool, device: str):
    """A random-weight SAM (``vit_*``) or SAM 2.1 (``hiera_*``), eval mode, on ``device``."""
    from mmpointsam.models.sam import build_sam, build_sam2

    cfg = dict(arch=arch, img_size=img_size)
    if lora:
        cfg['lora'] = dict(r=4, targets=('q', 'v'), first_block=LORA_FIRST_BLOCK.get(arch, 0))
    attention, _, compiled = attention.partition('+')
    if compiled:
        cfg['compile_encoder'] = True
    if arch.startswith('hiera'):
        model = build_sam2(cfg)
    else:
        model = build_sam(dict(cfg, attention='fused' if attention == 'sam2' else attention))
    return model.to(device).eval()


def part_fn(
    model, part: str, dtype: torch.dtype, img_size: int, prompts: int, device: str, batch: int = 1
):
    """A no-argument callable that runs ``part`` once (the encoder parts on ``batch`` images)."""
    images = torch.randn(batch, 3, img_size, img_size, device=device)
    device_type = device.split(':')[0]

    def autocast():
        if dtype == torch.float32:
            return nullcontext()
        return torch.autocast(device_type, dtype=dtype)

    if part == 'encoder':

        def run():
            with torch.no_grad(), autocast():
                model._encode(images)

        return run
    if part == 'lora':

        def run():
            with autocast():
                out = model._encode(images)
            out.float().sum().backward()

        return run
    # a random embedding of the encoder's output shape (from a meta-device run): the decoder's
    # time does not depend on its values, and the encoder is timed on its own
    meta = build(model.arch_name, img_size, 'reference', False, 'meta')
    shape = meta._encode(torch.empty(1, 3, img_size, img_size, device='meta')).shape
    gen = torch.Generator().manual_seed(0)
    embedding = torch.randn(shape, generator=gen).to(device)
    points = (torch.rand(prompts, 1, 2, generator=gen) * img_size).to(device)
    labels = torch.ones(prompts, 1, dtype=torch.long, device=device)
    batch_idx = torch.zeros(prompts, dtype=torch.long, device=device)

    def run():
        with torch.no_grad(), autocast():
            model.decode(embedding, batch_idx, points, labels, multimask_output=True)

    return run


def count_flops(arch: str, part: str, img_size: int, prompts: int, batch: int = 1) -> float:
    """FLOPs of one run of ``part``, counted with the reference attention: on the meta device
    for the encoder parts, on the CPU for the decoder (it indexes by value)."""
    from torch.utils.flop_counter import FlopCounterMode

    device = 'cpu' if part == 'decoder' else 'meta'
    model = build(arch, img_size, 'reference', part == 'lora', device)  # built on CPU, moved
    run = part_fn(model, part, torch.float32, img_size, prompts, device, batch)
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return float(counter.get_total_flops())


# ---------------------------------------------------------------------------------- profile
def _category(module: nn.Module):
    """'linear' for an nn.Linear, 'attention' for an attention module, else None."""
    if isinstance(module, nn.Linear):
        return 'linear'
    if type(module).__name__.endswith('Attention') or 'Attention' in type(module).__name__:
        return 'attention'
    return None


def time_shares(model: nn.Module, run, device: str, top: int = 0) -> dict:
    """Share of time in attention / linear / rest over one profiled ``run()``; with ``top``, also
    print that many ops with the most self time, by input shapes."""
    from torch.autograd.profiler import record_function
    from torch.profiler import ProfilerActivity, profile

    handles, open_ranges = [], defaultdict(list)
    for module in model.modules():
        cat = _category(module)
        if cat is None:
            continue

        def pre(mod, args, cat=cat):
            rf = record_function(f'roofline::{cat}')
            rf.__enter__()
            open_ranges[id(mod)].append(rf)

        def post(mod, args, out):
            open_ranges[id(mod)].pop().__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    activities = [ProfilerActivity.CPU]
    if device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
    try:
        with profile(activities=activities, record_shapes=bool(top)) as prof:
            run()
            sync(device)
    finally:
        for h in handles:
            h.remove()
    device_attr = 'self_device_time_total' if len(activities) > 1 else None
    if top:
        averages = prof.key_averages(group_by_input_shape=True)
        sort_by = device_attr or 'self_cpu_time_total'
        print(averages.table(sort_by=sort_by, row_limit=top, max_shapes_column_width=70))
    return _shares(prof.events(), device_attr)


def _shares(events, device_attr=None) -> dict:
    """Self time per category: ops under a roofline:: range, backward nodes by their forward op's
    sequence number, everything else 'rest'."""

    def forward_cat(event):
        node = event
        while node is not None:
            if node.name.startswith('roofline::'):
                return node.name.split('::')[1]
            node = node.cpu_parent
        return None

    # forward ops that autograd records carry a sequence number; their backward nodes the same
    by_seq = {}
    for e in events:
        if getattr(e, 'sequence_nr', -1) >= 0 and not e.is_async:
            cat = forward_cat(e)
            if cat is not None and 'Backward' not in e.name:
                by_seq.setdefault(e.sequence_nr, cat)
    totals = defaultdict(float)
    for e in events:
        cat = forward_cat(e)
        if cat is None:  # inside a backward node? then that node's forward op's category
            node = e
            while node is not None and cat is None:
                if 'Backward' in node.name and getattr(node, 'sequence_nr', -1) >= 0:
                    cat = by_seq.get(node.sequence_nr)
                node = node.cpu_parent
        t = getattr(e, device_attr) if device_attr else e.self_cpu_time_total
        totals[cat or 'rest'] += t
    total = sum(totals.values()) or 1.0
    return {k: totals[k] / total for k in ('attention', 'linear', 'rest')}


# ---------------------------------------------------------------------------------- main
def peak_memory(run, device: str) -> float:
    """GB that one ``run()`` allocates on a CUDA device beyond what was allocated before it
    (activations, gradients)."""
    sync(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    run()
    sync(device)
    return (torch.cuda.max_memory_allocated(device) - before) / 1e9


def measure(args, arch, part, dtype_name, attentions, peaks, flops, batch=1):
    """Rows (time, GFLOP, GFLOP/s, share of peak, time shares, images/s, CUDA memory) of one
    part in one dtype for each attention implementation; their timed runs alternate, so that
    load drifts hit all alike."""
    dtype = DTYPES[dtype_name]
    runs, shares, compile_s, memory = {}, {}, {}, {}
    for attention in attentions:
        torch.manual_seed(0)
        model = build(arch, args.img_size, attention, part == 'lora', args.device)
        runs[attention] = part_fn(
            model, part, dtype, args.img_size, args.prompts, args.device, batch
        )
        if attention.endswith('+compile'):  # the first call compiles (and runs once)
            compile_s[attention] = best_time(runs[attention], 1, args.device)
        if args.profile:  # also the warm-up
            shares[attention] = time_shares(model, runs[attention], args.device, args.top)
        if args.device.startswith('cuda'):
            memory[attention] = peak_memory(runs[attention], args.device)
        elif not args.profile:
            runs[attention]()  # the warm-up
    seconds = {attention: float('inf') for attention in attentions}
    for _ in range(args.reps):
        for attention in attentions:
            elapsed = best_time(runs[attention], 1, args.device)
            seconds[attention] = min(seconds[attention], elapsed)
    rows = []
    for attention in attentions:
        rate = flops / 1e9 / seconds[attention]
        rows.append(
            dict(
                model=arch,
                part=part,
                dtype=dtype_name,
                attention=attention
                + (f' (1st call {compile_s[attention]:.0f} s)' if attention in compile_s else ''),
                seconds=seconds[attention],
                gflop=flops / 1e9,
                rate=rate,
                peak_share=rate / peaks[dtype_name],
                shares=shares.get(attention),
                batch=batch,
                images_per_s=batch / seconds[attention] if part != 'decoder' else None,
                memory_gb=memory.get(attention),
            )
        )
        print(format_row(rows[-1]), flush=True)
    return rows


def format_row(r) -> str:
    """A markdown table row."""
    shares = r['shares']
    split = (
        ' | '.join(f'{100 * shares[k]:.0f} %' for k in ('attention', 'linear', 'rest'))
        if shares
        else ' | | '
    )
    rate = f'{r["images_per_s"]:.2f}' if r.get('images_per_s') else ''
    memory = f'{r["memory_gb"]:.2f}' if r.get('memory_gb') is not None else ''
    return (
        f'| {r["model"]} | {r["part"]} | {r["dtype"]} | {r["attention"]} | {r["seconds"]:.3f} | '
        f'{r["gflop"]:.1f} | {r["rate"]:.0f} | {100 * r["peak_share"]:.0f} % | {split} | '
        f'{r.get("batch", 1)} | {rate} | {memory} |'
    )


def main():
    """Parse the options, measure the GEMM peak, then print one table row per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['vit_b', 'hiera_b+', 'vit_t'])
    parser.add_argument('--parts', nargs='+', default=['encoder', 'lora', 'decoder'])
    parser.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'], choices=list(DTYPES))
    parser.add_argument(
        '--attention',
        nargs='+',
        default=['reference', 'fused'],
        choices=['reference', 'fused'],
        help='SAM ViT / TinyViT attention implementations to compare (SAM 2 has its own)',
    )
    parser.add_argument(
        '--compile',
        nargs='*',
        default=[],
        metavar='PART',
        help='also time these parts (e.g. encoder) with the fused attention and '
        'compile_encoder=True, with the first call (compile + one run) reported',
    )
    parser.add_argument('--img-size', type=int, default=1024)
    parser.add_argument(
        '--batch',
        type=int,
        nargs='+',
        default=[1],
        help='images per run of the encoder parts (one row each); on CUDA each row also gives '
        'the memory the run allocates',
    )
    parser.add_argument('--prompts', type=int, default=50, help='prompts of the decoder part')
    parser.add_argument(
        '--reps', type=int, default=1, help='timed runs after the profiled one (min kept)'
    )
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, help='torch threads (default: torch picks)')
    parser.add_argument('--no-profile', dest='profile', action='store_false')
    parser.add_argument(
        '--top', type=int, default=0, help='print the N ops of most self time of each profile'
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.logging import MMLogger

    MMLogger.get_current_instance().setLevel('ERROR')  # the RANDOM-weights warnings
    where = torch.cuda.get_device_name() if args.device.startswith('cuda') else 'CPU'
    print(
        f'roofline: torch {torch.__version__}, {where}, {torch.get_num_threads()} threads, '
        f'{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, img_size {args.img_size}, '
        f'{args.prompts} decoder prompts',
        flush=True,
    )
    peaks = {name: gemm_peak(DTYPES[name], args.device) for name in args.dtypes}
    print('| GEMM peak | ' + ' | '.join(f'{k} {v:.0f} GFLOP/s' for k, v in peaks.items()) + ' |')
    print(
        '\n| model | part | dtype | attention | s | GFLOP | GFLOP/s | of peak | attention | '
        'linear | rest | batch | images/s | GPU GB |\n'
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'
    )
    rows = []
    for arch in args.models:
        # SAM 2's Hiera has SDPA attention of its own; the decoder does not depend on the
        # encoder's attention
        attentions = ['sam2'] if arch.startswith('hiera') else args.attention
        for part in args.parts:
            for batch in [1] if part == 'decoder' else args.batch:
                flops = count_flops(arch, part, args.img_size, args.prompts, batch)
                for dtype_name in args.dtypes:
                    variants = attentions[-1:] if part == 'decoder' else list(attentions)
                    if part in args.compile:
                        variants.append(attentions[-1] + '+compile')
                    rows += measure(args, arch, part, dtype_name, variants, peaks, flops, batch)
    print(f'\nload at the end: {os.getloadavg()[0]:.2f}')
    return rows


if __name__ == '__main__':
    main()
