"""SAM's mask decoder for many prompts on one image: segment-anything's vs the prompt-batched one.

Same random weights, same image embedding, same prompts; the two run interleaved, the minimum of
``--reps`` timings is kept, so the ratio is measured within one run. Without grad (teacher, NPC,
evaluation) and forward + backward to the image embedding (the student). ``--points`` sets the
point prompts per instance: 1 is a plain click, 51 is NPC with 50 negatives (the worst case of an
image with 51 mutually overlapping objects).

    python tools/benchmark/decoder_speed.py --prompts 50 --points 1 51
"""

import argparse
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def run(sam, emb, points, labels, grad: bool) -> float:
    batch_idx = torch.zeros(len(points), dtype=torch.long)
    t = time.perf_counter()
    if grad:
        e = emb.clone().requires_grad_()
        logits, iou = sam.decode(e, batch_idx, points, labels)
        (logits.sigmoid().mean() + iou.sum()).backward()
    else:
        with torch.no_grad():
            sam.decode(emb, batch_idx, points, labels)
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--prompts', type=int, default=50)
    parser.add_argument('--points', type=int, nargs='+', default=[1, 51])
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--img-size', type=int, default=1024)
    args = parser.parse_args()

    from mmpointsam.models.sam import build_sam

    torch.manual_seed(0)
    fast = build_sam(dict(arch='vit_t', img_size=args.img_size)).eval()
    slow = build_sam(dict(arch='vit_t', img_size=args.img_size, prompt_batched_decoder=False))
    slow.load_state_dict(fast.state_dict())
    slow.eval()
    grid = args.img_size // 16
    emb = torch.randn(1, 256, grid, grid)
    print(
        f'mask decoder, {args.prompts} prompts on one {args.img_size} px image, '
        f'{torch.get_num_threads()} threads, fast chunks: {fast.decoder_chunk_size}'
    )
    print('\n| points per prompt | mode | segment-anything | prompt-batched | speed-up |')
    print('| --- | --- | --- | --- | --- |')
    for num_points in args.points:
        points = torch.rand(args.prompts, num_points, 2) * args.img_size
        labels = torch.zeros(args.prompts, num_points, dtype=torch.long)
        labels[:, 0] = 1  # one positive click, the rest negatives
        for grad in (False, True):
            times = {'slow': [], 'fast': []}
            for rep in range(args.reps + 1):
                for name, sam in (('slow', slow), ('fast', fast)):
                    dt = run(sam, emb, points, labels, grad)
                    if rep:  # the first round warms up
                        times[name].append(dt)
            s, f = min(times['slow']), min(times['fast'])
            mode = 'forward + backward' if grad else 'no grad'
            print(
                f'| {num_points} | {mode} | {1000 * s / args.prompts:.1f} ms/prompt | '
                f'{1000 * f / args.prompts:.1f} ms/prompt | {s / f:.2f} x |',
                flush=True,
            )


if __name__ == '__main__':
    main()
