"""What the rel-pos fold costs the attention kernel: SDPA on one ViT-B global block.

``F.scaled_dot_product_attention`` on (12 heads, 4096 tokens) with no mask at head width 64
(plain attention, the floor of any exact rel-pos method with this kernel), 128 and 192 (the fold:
64 + 64 row + 64 column one-hots, value zero-padded to the same width), and at width 64 with
segment-anything's rel-pos term as an additive float mask. Minimum of ``--reps`` timed calls.

    python tools/benchmark/sdpa_widths.py
    python tools/benchmark/sdpa_widths.py --heads 300 --tokens 196 --widths 92 96  # 25 windows
    python tools/benchmark/sdpa_widths.py --device cuda --tokens 4096 --heads 12  # untested here
"""

import argparse

import torch
import torch.nn.functional as F
from roofline import best_time  # this folder: the clock with CUDA synchronisation


def best_ms(fn, reps: int, device: str) -> float:
    """Minimum wall time of ``reps`` calls of ``fn`` after one warm-up, in ms."""
    fn()
    return 1e3 * best_time(fn, reps, device)


def main():
    """Print one row per dtype: ms at each width, and with the mask."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--heads', type=int, default=12)
    parser.add_argument('--tokens', type=int, default=4096)
    parser.add_argument('--widths', type=int, nargs='+', default=[64, 128, 192])
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    G, N = args.heads, args.tokens
    widths = args.widths
    print(
        f'torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, '
        f'{G} heads x {N} tokens, no grad'
    )
    print('| dtype | ' + ' | '.join(f'width {w}' for w in widths) + ' | width 64 + mask |')
    print('| --- ' * (len(widths) + 2) + '|')
    for dtype in (torch.float32, torch.bfloat16):
        cells = []
        with torch.no_grad():
            for width in widths:
                q, k, v = torch.randn(3, G, 1, N, width, dtype=dtype, device=args.device)
                cells.append(
                    best_ms(lambda: F.scaled_dot_product_attention(q, k, v), args.reps, args.device)
                )
            q, k, v = torch.randn(3, G, 1, N, 64, dtype=dtype, device=args.device)
            mask = torch.randn(G, 1, N, N, dtype=dtype, device=args.device)
            cells.append(
                best_ms(
                    lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                    args.reps,
                    args.device,
                )
            )
        name = str(dtype).replace('torch.', '')
        print(f'| {name} | ' + ' | '.join(f'{c:.0f} ms' for c in cells) + ' |')


if __name__ == '__main__':
    main()
