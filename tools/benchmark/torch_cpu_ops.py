"""SAM ViT-B's encoder and its main CPU ops under the installed torch: run it under two torch
versions to see where a stack change moves the encoder's time.

    python tools/benchmark/torch_cpu_ops.py --reps 3

Random weights, fp32, no grad, the threads torch picks (or --threads). Prints the minimum over
--reps of each row, in milliseconds.
"""

import argparse
import time

import torch


def _time(fn, reps: int) -> float:
    fn()  # warm-up
    best = float('inf')
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--threads', type=int)
    parser.add_argument('--no-encoder', action='store_true', help='ops only')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tokens, dim, heads = 64 * 64, 768, 12
    x = torch.randn(1, 64, 64, dim)
    qkv = torch.nn.Linear(dim, 3 * dim)
    mlp = torch.nn.Linear(dim, 4 * dim)
    norm = torch.nn.LayerNorm(dim)
    q = torch.randn(heads, 14 * 14, dim // heads)  # a windowed block's attention
    qg = torch.randn(heads, tokens, dim // heads)  # a global block's attention
    rows = []
    with torch.no_grad():
        rows.append(('Linear 768->2304 on 4096 tokens', _time(lambda: qkv(x), args.reps)))
        rows.append(('Linear 768->3072 on 4096 tokens', _time(lambda: mlp(x), args.reps)))
        h = mlp(x)
        rows.append(('GELU on 4096x3072', _time(lambda: torch.nn.functional.gelu(h), args.reps)))
        rows.append(('LayerNorm on 4096x768', _time(lambda: norm(x), args.reps)))
        rows.append(
            (
                'q @ k^T, 12 heads, 196 tokens (x25 windows)',
                25 * _time(lambda: q @ q.transpose(-2, -1), args.reps),
            )
        )
        rows.append(
            (
                'q @ k^T, 12 heads, 4096 tokens (global)',
                _time(lambda: qg @ qg.transpose(-2, -1), args.reps),
            )
        )
        attn = torch.randn(heads, tokens, tokens)
        rows.append(('softmax over 12x4096x4096', _time(lambda: attn.softmax(-1), args.reps)))
        if not args.no_encoder:
            from functools import partial

            from segment_anything.modeling import ImageEncoderViT

            enc = ImageEncoderViT(
                depth=12,
                embed_dim=768,
                img_size=1024,
                mlp_ratio=4,
                norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
                num_heads=12,
                patch_size=16,
                qkv_bias=True,
                use_rel_pos=True,
                global_attn_indexes=[2, 5, 8, 11],
                window_size=14,
                out_chans=256,
            ).eval()
            img = torch.randn(1, 3, 1024, 1024)
            rows.append(
                ('SAM ViT-B encoder, 1024 input', _time(lambda: enc(img), max(1, args.reps - 1)))
            )
    print(
        f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
        f'MKL {torch.backends.mkl.is_available()}, oneDNN {torch.backends.mkldnn.is_available()}'
    )
    for name, ms in rows:
        print(f'| {name} | {ms:.1f} ms |')


if __name__ == '__main__':
    main()
