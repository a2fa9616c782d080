"""Seconds per click and peak memory of GeoTIFF + click layer -> GIS layers, by scene size.

For each scene size (4,000, 16,000 and 40,000 px a side by default) a 3-band 8-bit GeoTIFF in
UTM (0.5 m pixels, tiled, DEFLATE, sparse: mostly empty, so a 40,000 px scene is a few MB on
disk) gets real NWPU VHR-10 images pasted on a 10 x 10 grid and 100 clicks, one at the centre of
each pasted image, written as a GeoPackage in EPSG:4326. Then, each in a fresh process, the
whole command path runs (read and reproject the clicks, segment window by window, write the
GeoPackage layers); the process reports its peak resident memory (``ru_maxrss``) and times.
Memory must not follow the scene: the peak at the largest size must stay within 1.3x of that at
the smallest (exit status 1 otherwise).

    python tools/benchmark/geo_speed.py          # tiny SAM at 256 px, random weights, 1024 windows
    python tools/benchmark/geo_speed.py --arch vit_t --img-size 1024   # MobileSAM's encoder

Random weights: the timings are the encoder's and the plumbing's, the masks mean nothing (they
are noise, so their polygons have thousands of pieces: writing the layers costs more time and
memory than a trained model's compact masks would).
"""

import argparse
import glob
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IMAGE_DIRS = (
    'data/nwpu_vhr10/images',
    '../shared/data/nwpu_vhr10/images',
    'tests/data/nwpu_vhr10/images',
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[4000, 16000, 40000])
    parser.add_argument('--clicks', type=int, default=100, help='clicks per scene (a square grid)')
    parser.add_argument('--arch', default='tiny', help='SAM arch, random weights')
    parser.add_argument('--img-size', type=int, default=256, help="SAM's input size")
    parser.add_argument('--window-size', type=int, default=1024)
    parser.add_argument('--window-overlap', type=int, default=256)
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--work-dir', help='where scenes and outputs go (default: a temp folder)')
    parser.add_argument('--max-ratio', type=float, default=1.3)
    # internal: one measurement in its own process
    parser.add_argument('--make-scene', nargs=2, metavar=('SIZE', 'DIR'), help=argparse.SUPPRESS)
    parser.add_argument(
        '--measure', nargs=3, metavar=('SCENE', 'CLICKS', 'OUT'), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def _images():
    for d in IMAGE_DIRS:
        found = sorted(glob.glob(osp.join(REPO, d, '*.jpg')))
        if found:
            return found
    raise FileNotFoundError(f'no NWPU images under {IMAGE_DIRS}')


def make_scene(size: int, out_dir: str, num_clicks: int) -> dict:
    """The sparse scene and its click layer (see the module docstring)."""
    import cv2
    import numpy as np

    from mmpointsam.testing.geo_scene import (
        UTM_CRS,
        pixel_centres_to_crs,
        scene_transform,
        write_click_layer,
        write_sparse_scene,
    )

    os.makedirs(out_dir, exist_ok=True)
    grid = int(round(num_clicks**0.5))
    cell = size // grid
    files = _images()
    tiles, clicks = [], []
    for k in range(grid * grid):
        img = cv2.imread(files[k % len(files)])
        img = img[: min(cell, img.shape[0]), : min(cell, img.shape[1])]
        x, y = (k % grid) * cell, (k // grid) * cell
        tiles.append((x, y, img))
        clicks.append((x + img.shape[1] // 2, y + img.shape[0] // 2))
    scene = write_sparse_scene(osp.join(out_dir, f'scene_{size}.tif'), size, tiles)
    lonlat = pixel_centres_to_crs(np.array(clicks), scene_transform(), UTM_CRS, 'EPSG:4326')
    layer = write_click_layer(
        osp.join(out_dir, f'clicks_{size}.gpkg'),
        lonlat,
        'EPSG:4326',
        {'class': ['object'] * len(clicks)},
    )
    return dict(scene=scene, clicks=layer, disk_mb=osp.getsize(scene) / 2**20)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    import mmpointsam  # noqa: F401
    from mmpointsam.apis import PointSAMInferencer
    from mmpointsam.geo import GeoSegmenter

    scene, clicks, out = args.measure
    t0 = time.perf_counter()
    inferencer = PointSAMInferencer(
        arch=args.arch,
        img_size=args.img_size,
        device='cpu',
        window_size=args.window_size,
        window_overlap=args.window_overlap,
    )
    build_s = time.perf_counter() - t0
    rss_model = _rss_mb()
    t0 = time.perf_counter()
    summary = GeoSegmenter(inferencer).run(
        scene, clicks, out, class_field='class', progress=False, resume=False
    )
    run_s = time.perf_counter() - t0
    return dict(
        run_s=run_s,
        build_s=build_s,
        objects=summary['objects'],
        windows=summary['num_windows'],
        rss_after_model_mb=rss_model,
        peak_rss_mb=_rss_mb(),
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.make_scene:
        print(json.dumps(make_scene(int(args.make_scene[0]), args.make_scene[1], args.clicks)))
        return 0
    if args.measure:
        print(json.dumps(measure(args)))
        return 0
    work = args.work_dir or tempfile.mkdtemp(prefix='geo_speed_')
    base = [sys.executable, osp.abspath(__file__), '--clicks', str(args.clicks)]
    model = [
        '--arch',
        args.arch,
        '--img-size',
        str(args.img_size),
        '--threads',
        str(args.threads),
        '--window-size',
        str(args.window_size),
        '--window-overlap',
        str(args.window_overlap),
    ]
    rows = []
    for size in args.sizes:
        folder = osp.join(work, str(size))
        made = json.loads(
            subprocess.run(
                base + ['--make-scene', str(size), folder],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        done = subprocess.run(
            base + model + ['--measure', made['scene'], made['clicks'], osp.join(folder, 'out')],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(size=size, disk_mb=made['disk_mb'])
        rows.append(row)
        print(f'{size} px: {row["run_s"]:.1f} s, peak RSS {row["peak_rss_mb"]:.0f} MB', flush=True)
    print(
        f'\nGeoTIFF -> GeoPackage layers, {args.clicks} clicks, SAM {args.arch} (RANDOM weights) '
        f'at {args.img_size} px, windows {args.window_size}/{args.window_overlap}, '
        f'{args.threads} torch threads; load average {os.getloadavg()[0]:.2f} at the end'
    )
    print(
        '| scene (px) | file (MB) | windows | s / click | total s | RSS after model (MB) '
        '| peak RSS (MB) |'
    )
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for r in rows:
        print(
            f'| {r["size"]:,} | {r["disk_mb"]:.1f} | {r["windows"]} '
            f'| {r["run_s"] / r["objects"]:.3f} '
            f'| {r["run_s"]:.1f} | {r["rss_after_model_mb"]:.0f} | {r["peak_rss_mb"]:.0f} |'
        )
    ratio = rows[-1]['peak_rss_mb'] / rows[0]['peak_rss_mb']
    ok = ratio <= args.max_ratio
    print(
        f'\npeak RSS {rows[-1]["size"]:,} px / {rows[0]["size"]:,} px = {ratio:.3f} '
        f'({"within" if ok else "OVER"} {args.max_ratio}x)'
    )
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
