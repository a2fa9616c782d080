"""Images/s of the point -> rotated-box converter on CPU, split into image encoder and the rest.

"Rest" is everything else per image: image loading and preprocessing, batched prompt decoding,
Negative Prompt Calibration, upsampling the masks to the original size, mask -> rbox and the
atomic label writes. Runs each encoder on the same first N annotated NWPU images after one
warm-up image.

    python tools/benchmark/point2rbox_speed.py --archs vit_t vit_b --num-images 3

``--objects 10 100 500``: instead, seconds per object on one real image holding that many
clicks (seeded, uniform over the image), with NPC capped (``--npc-max-negatives``, default 8)
and uncapped (the paper's NPC; only up to ``--uncapped-up-to`` objects: it grows with the
square of the count). Random weights make every mask overlap every other, NPC's worst case.

    python tools/benchmark/point2rbox_speed.py --archs vit_t --objects 10 100 500

``--scene 4000``: a 4000 x 4000 mosaic of real NWPU images with their clicks, converted in
DOTA-style 1024/200 patches and as one resized image, each in its own process: seconds, boxes
and peak resident memory (the patches bound memory by the patch, not the scene).

    python tools/benchmark/point2rbox_speed.py --archs vit_t --scene 4000

``--nproc 1 2 --batch-size 1 4``: throughput of whole runs of ``tools/dist_point2rbox.sh``
(torchrun; gloo on CPU) on the same N images for each number of processes and batch size:
images per hour of the conversion loop (the slowest rank's) and end to end (with start-up),
and their ratio to one process at batch size 1. On CPU each process gets cores / nproc threads
(``--threads N``: N each).

    python tools/benchmark/point2rbox_speed.py --archs vit_t --num-images 8 \
        --nproc 1 2 --batch-size 1 4
"""

import argparse
import json
import os
import os.path as osp
import re
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.apis import Point2RBoxConverter  # noqa: E402
from mmpointsam.datasets import sample_point_labels  # noqa: E402
from mmpointsam.fileio import subset_coco_json  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = dict(
    vit_t='configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py',
    vit_b='configs/sam_direct/sam-direct_sam-vit-b_nwpu.py',
)


def parse_args():
    parser = argparse.ArgumentParser(description='point2rbox converter speed')
    parser.add_argument('--archs', nargs='+', default=['vit_t', 'vit_b'], choices=list(CONFIGS))
    parser.add_argument('--num-images', type=int, default=3, help='timed images (after warm-up)')
    parser.add_argument('--gt-json', default='data/nwpu_vhr10/annotations/NWPU_instances_val.json')
    parser.add_argument('--img-dir', default='data/nwpu_vhr10/images')
    parser.add_argument(
        '--checkpoint',
        nargs='*',
        default=[],
        help='ARCH=PATH official weights; others run with random weights '
        '(same encoder cost; the rest differs with the masks)',
    )
    parser.add_argument('--threads', type=int, help="torch threads (default: torch's choice)")
    parser.add_argument(
        '--objects',
        type=int,
        nargs='+',
        help='time per object at these click counts on one image instead',
    )
    parser.add_argument('--npc-max-negatives', type=int, default=8)
    parser.add_argument(
        '--uncapped-up-to',
        type=int,
        default=100,
        help='largest click count also run with uncapped NPC',
    )
    parser.add_argument(
        '--scene', type=int, help='side of a mosaic scene of NWPU images: patches vs whole image'
    )
    parser.add_argument(
        '--nproc', type=int, nargs='+', help='throughput of dist_point2rbox.sh on these sizes'
    )
    parser.add_argument(
        '--batch-size', type=int, nargs='+', default=[1], help='with --nproc: encoder batches'
    )
    parser.add_argument('--repeat', type=int, default=1, help='with --nproc: runs of each row')
    parser.add_argument(
        '--device', default='cpu', help='with --nproc: cpu, or cuda (one GPU per process)'
    )
    parser.add_argument(
        '--scene-child',
        nargs=4,
        metavar=('ARCH', 'POINTS', 'IMG_DIR', 'MODE'),
        help=argparse.SUPPRESS,
    )
    return parser.parse_args()


def scene_child(args, weights: dict) -> None:
    """One conversion of the mosaic in this process; prints its figures as json."""
    arch, points, img_dir, mode = args.scene_child
    converter = Point2RBoxConverter.from_config(
        osp.join(REPO, CONFIGS[arch]),
        sam_checkpoint=weights.get(arch, 'none'),
        **({} if mode == 'patches' else dict(patch=None)),
    )
    with tempfile.TemporaryDirectory(prefix='scene_out_') as out:
        start = time.perf_counter()
        s = converter.convert(points, img_dir, out, progress=False)
        wall = time.perf_counter() - start
    print(
        json.dumps(
            dict(
                wall=wall,
                boxes=s['boxes_total'],
                encoder=s['encoder_s'],
                rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            )
        )
    )


def scene(args, tmp: str):
    """The mosaic's clicks converted by patches and whole, each in a fresh process."""
    from mmpointsam.testing import build_mosaic

    mosaic = build_mosaic(args.gt_json, args.img_dir, size=(args.scene, args.scene), out_dir=tmp)
    points = osp.join(tmp, 'points.json')
    sample_point_labels(mosaic['ann_file'], points, num_points=1, num_neg_points=0, seed=0)
    rows = []
    for arch in args.archs:
        for mode in ('patches', 'whole'):
            cmd = [
                sys.executable,
                osp.abspath(__file__),
                '--scene-child',
                arch,
                points,
                tmp,
                mode,
            ] + (['--checkpoint'] + args.checkpoint if args.checkpoint else [])
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows.append((arch, mode, json.loads(out.strip().splitlines()[-1])))
    return mosaic, rows


def object_scaling(args, weights: dict, tmp: str):
    """Seconds per object (everything after the encoder) at each click count, NPC capped and
    uncapped; rows (arch, cap, objects, calibrated, decode+NPC s/object, rest s/object)."""
    gt = osp.join(tmp, 'gt.json')
    data = subset_coco_json(args.gt_json, gt, 1)
    img = data['images'][0]
    rng = np.random.default_rng(0)
    rows = []
    for arch in args.archs:
        for cap in (args.npc_max_negatives, None):
            converter = Point2RBoxConverter.from_config(
                osp.join(REPO, CONFIGS[arch]),
                sam_checkpoint=weights.get(arch, 'none'),
                npc_max_negatives=cap,
                patch=None,
            )  # the whole image, even over 1024 px
            counts = [n for n in args.objects if cap is not None or n <= args.uncapped_up_to]
            for k, num in enumerate([min(counts)] + counts):  # the first run warms up
                xy = rng.uniform([0, 0], [img['width'] - 1, img['height'] - 1], (num, 2))
                anns = [
                    dict(
                        id=i + 1,
                        image_id=img['id'],
                        category_id=1,
                        points=[[float(int(x)), float(int(y))]],
                        point_labels=[1],
                    )
                    for i, (x, y) in enumerate(xy)
                ]
                path = osp.join(tmp, f'points_{num}.json')
                with open(path, 'w') as f:
                    json.dump(dict(data, annotations=anns), f)
                out = osp.join(tmp, f'{arch}_{cap}_{num}_{k}')
                s = converter.convert(path, args.img_dir, out, progress=False)
                if k:
                    rows.append(
                        (
                            arch,
                            'all' if cap is None else cap,
                            num,
                            s['calibrated'],
                            s['decoder_s'] / num,
                            (s['total_s'] - s['encoder_s']) / num,
                        )
                    )
    return img, rows


def run(args, weights: dict, tmp: str):
    """Time each arch on the same images; returns the subset json and the table rows."""
    gt = osp.join(tmp, 'gt.json')
    data = subset_coco_json(args.gt_json, gt, args.num_images + 1)
    points = osp.join(tmp, 'points.json')
    sample_point_labels(gt, points, num_points=1, num_neg_points=0, seed=0)
    # the first image warms up each model, the others are timed
    with open(points) as f:
        labels = json.load(f)
    warm, timed = osp.join(tmp, 'warm.json'), osp.join(tmp, 'timed.json')
    first = labels['images'][0]['id']
    for path, keep in ((warm, lambda i: i == first), (timed, lambda i: i != first)):
        with open(path, 'w') as f:
            json.dump(
                dict(
                    labels,
                    images=[i for i in labels['images'] if keep(i['id'])],
                    annotations=[a for a in labels['annotations'] if keep(a['image_id'])],
                ),
                f,
            )
    num_instances = sum(a['image_id'] != first for a in labels['annotations'])

    rows = []
    for arch in args.archs:
        converter = Point2RBoxConverter.from_config(
            osp.join(REPO, CONFIGS[arch]), sam_checkpoint=weights.get(arch, 'none')
        )
        converter.convert(warm, args.img_dir, osp.join(tmp, f'{arch}_warm'), progress=False)
        start = time.perf_counter()
        s = converter.convert(timed, args.img_dir, osp.join(tmp, arch), progress=False)
        wall = time.perf_counter() - start
        n = s['converted']
        rows.append(
            (
                arch,
                'official' if arch in weights else 'random',
                n,
                num_instances,
                s['encoder_s'] / n,
                (s['total_s'] - s['encoder_s']) / n,
                s['decoder_s'] / n,
                s['total_s'] / n,
                n / s['total_s'],
                wall,
            )
        )
    return data, rows


RANK_LINE = re.compile(
    r'point2rbox: (?:\d+ processes: )?(\d+) images converted.*?\n.*?\n.*?\(([\d.na]+) s/img'
)


def cpu_threads(args, nproc: int) -> int:
    """Threads per process on CPU: ``--threads``, else the cores shared out."""
    return args.threads or max(1, os.cpu_count() // nproc)


def dist_run(args, weights, points, nproc, batch, out):
    """One ``dist_point2rbox.sh`` run; returns (wall s, slowest rank's loop s, images)."""
    arch = args.archs[0]
    env = dict(os.environ, PORT=str(29500 + os.getpid() % 1000), MMPOINTSAM_PYTHON=sys.executable)
    if args.device == 'cpu':
        env.update(CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS=str(cpu_threads(args, nproc)))
    cmd = [
        'bash',
        osp.join(REPO, 'tools', 'dist_point2rbox.sh'),
        osp.join(REPO, CONFIGS[arch]),
        points,
        args.img_dir,
        out,
        str(nproc),
        '--sam-checkpoint',
        weights.get(arch, 'none'),
        '--batch-size',
        str(batch),
        '--device',
        args.device,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
    wall = time.perf_counter() - start
    text = proc.stdout + proc.stderr
    if proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{text[-3000:]}')
    # rank 0's summary: all images, and seconds per image over the slowest rank's loop
    num, per_img = RANK_LINE.findall(text)[-1]
    return wall, int(num) * float(per_img), int(num)


def throughput(args, weights, tmp):
    """Rows (nproc, batch, images, loop images/h, end-to-end images/h) of every combination."""
    gt = osp.join(tmp, 'gt.json')
    subset_coco_json(args.gt_json, gt, args.num_images)
    points = osp.join(tmp, 'points.json')
    sample_point_labels(gt, points, num_points=1, num_neg_points=0, seed=0)
    rows = []
    for nproc in args.nproc:
        for batch in args.batch_size:
            loop_rates, wall_rates = [], []
            for k in range(args.repeat):
                out = osp.join(tmp, f'out_{nproc}_{batch}_{k}')
                wall, loop, images = dist_run(args, weights, points, nproc, batch, out)
                loop_rates.append(images / loop * 3600)
                wall_rates.append(images / wall * 3600)
            rows.append((nproc, batch, images, np.mean(loop_rates), np.mean(wall_rates)))
    return rows


def print_throughput(args, rows, load_before):
    """The throughput table with the ratios to one process at batch size 1 (or the first row)."""
    base = next((r for r in rows if r[0] == 1 and r[1] == 1), rows[0])
    print(
        f'\npoint2rbox throughput, tools/dist_point2rbox.sh on {args.device} '
        f'({args.archs[0]}, {rows[0][2]} NWPU images from {args.gt_json}, 1024 px, RANDOM '
        f'weights unless given, mean of {args.repeat} run(s)); {os.cpu_count()} CPU cores, '
        f'load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after'
    )
    header = (
        'processes',
        'batch',
        'threads/process',
        'loop images/h',
        'ratio',
        'end-to-end images/h',
        'ratio',
    )
    print(' | '.join(header))
    print(' | '.join('-' * len(h) for h in header))
    for nproc, batch, _, loop, wall in rows:
        threads = cpu_threads(args, nproc) if args.device == 'cpu' else '-'
        print(
            f'{nproc} | {batch} | {threads} | {loop:.0f} | {loop / base[3]:.2f} | {wall:.0f} | '
            f'{wall / base[4]:.2f}'
        )


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    weights = dict(item.split('=', 1) for item in args.checkpoint)
    if args.scene_child:
        scene_child(args, weights)
        return
    if args.nproc:
        load_before = os.getloadavg()[0]
        with tempfile.TemporaryDirectory(prefix='point2rbox_dist_') as tmp:
            rows = throughput(args, weights, tmp)
        print_throughput(args, rows, load_before)
        return
    if args.scene:
        with tempfile.TemporaryDirectory(prefix='point2rbox_scene_') as tmp:
            mosaic, rows = scene(args, tmp)
        tiles = len(mosaic['placements'])
        clicks = len(mosaic['coco']['annotations'])
        print(
            f'\npoint2rbox on a {args.scene}x{args.scene} mosaic of {tiles} NWPU images '
            f'({clicks} clicks), CPU, RANDOM weights unless given; load average '
            f'{os.getloadavg()[0]:.1f}'
        )
        print('arch | mode | seconds | boxes | encoder s | peak RSS GB')
        print('--- | --- | --- | --- | --- | ---')
        for arch, mode, r in rows:
            print(
                f'{arch} | {mode} | {r["wall"]:.1f} | {r["boxes"]} | {r["encoder"]:.1f} | '
                f'{r["rss"]:.2f}'
            )
        return
    if args.objects:
        with tempfile.TemporaryDirectory(prefix='point2rbox_speed_') as tmp:
            img, rows = object_scaling(args, weights, tmp)
        print(
            f'\npoint2rbox time per object on CPU ({torch.get_num_threads()} torch threads), '
            f'one NWPU image ({img["file_name"]}, {img["width"]}x{img["height"]}), seeded '
            f'uniform clicks, RANDOM weights unless given (every mask overlaps: NPC worst '
            f'case); load average {os.getloadavg()[0]:.1f} (shared machine)'
        )
        header = (
            'arch',
            'NPC negatives',
            'objects',
            'calibrated',
            'decode+NPC s/object',
            'all but encoder s/object',
        )
        print(' | '.join(header))
        print(' | '.join('-' * len(h) for h in header))
        for r in rows:
            print(f'{r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.4f} | {r[5]:.4f}')
        return
    with tempfile.TemporaryDirectory(prefix='point2rbox_speed_') as tmp:
        data, rows = run(args, weights, tmp)
    print(
        f'\npoint2rbox converter on CPU ({torch.get_num_threads()} torch threads), '
        f'{rows[0][2]} NWPU images ({rows[0][3]} point prompts) at SAM img_size 1024, '
        f'after 1 warm-up image; {len(data["images"])} images from {args.gt_json}; '
        f'{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared machine)'
    )
    header = (
        'arch',
        'weights',
        'images',
        'prompts',
        'encoder s/img',
        'rest s/img',
        '(rest: decoding+NPC s/img)',
        'total s/img',
        'images/s',
    )
    print(' | '.join(header))
    print(' | '.join('-' * len(h) for h in header))
    for r in rows:
        print(
            f'{r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} | '
            f'{r[7]:.3f} | {r[8]:.3f}'
        )
    if any(r[1] == 'random' for r in rows):
        print(
            'random weights: the encoder cost is the real one; the rest depends on the masks '
            '(random masks cover much of the image and overlap, so NPC re-decodes nearly '
            'every prompt; real ones are object-sized).'
        )


if __name__ == '__main__':
    main()
