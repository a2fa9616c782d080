"""Segment the objects of a click layer on a georeferenced scene; write GIS layers.

    python tools/geo/segment.py scene.tif clicks.gpkg out/ \
        --config configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu-clicks.py \
        --checkpoint work_dirs/x/epoch_10.pth \
        --class-field class [--bands 3 2 1] [--format gpkg|geojson|shp] [--label-raster]

SCENE is any GDAL raster (GeoTIFF, COG, VRT, JPEG 2000), read window by window; POINTS a
GeoPackage, GeoJSON, Shapefile or CSV (x,y with --crs, or lon,lat) in any CRS. Writes, in OUT,
one feature per object in each layer (``masks``: polygons with holes, ``rboxes``: rotated
boxes), in the raster's CRS: STEM.gpkg (or STEM_masks.geojson ... / .shp), the pixel-frame boxes
for MMRotate (STEM_rboxes_pixel.json, annfiles/STEM.txt), STEM_run.json, and with
--label-raster STEM_labels.tif (a COG aligned with the scene). An interrupted run resumes.
Without --config: --checkpoint is a plain SAM/MobileSAM file, or --arch builds a plain SAM
(--sam-checkpoint none: RANDOM weights, which check the plumbing only).
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

import mmpointsam  # noqa: E402,F401  (collections shim before mmrotate)
from mmpointsam.geo.arguments import add_scene_arguments, scene_options  # noqa: E402
from mmpointsam.structures import RBOX_METHODS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scene', help='a GDAL raster: GeoTIFF, COG, VRT, JPEG 2000...')
    parser.add_argument('points', help='click layer: GeoPackage, GeoJSON, Shapefile or CSV')
    parser.add_argument('out', help='output folder')
    model = parser.add_argument_group('model')
    model.add_argument('--config', help='an mmpointsam config (its model is used)')
    model.add_argument('--checkpoint', help='a tools/train.py checkpoint, or a plain SAM file')
    model.add_argument(
        '--sam-checkpoint',
        help='official SAM/MobileSAM weights for the config (or --arch); "none": RANDOM weights',
    )
    model.add_argument(
        '--arch', help='without --config: a plain SAM of this arch (vit_b, vit_t...)'
    )
    model.add_argument('--img-size', type=int, default=1024, help="with --arch: SAM's input size")
    model.add_argument('--device', help='cpu, cuda, cuda:1 (default: cuda when available)')
    model.add_argument('--seed', type=int, default=0, help='torch seed (random weights)')
    model.add_argument('--cfg-options', nargs='+', action=DictAction)
    model.add_argument('--window-size', type=int, default=1024)
    model.add_argument('--window-overlap', type=int, default=256)
    model.add_argument('--rbox-method', choices=RBOX_METHODS, default='largest')
    model.add_argument(
        '--click-negatives',
        type=int,
        default=0,
        help='add to each object the N nearest other clicks as negatives',
    )
    model.add_argument(
        '--rboxes-only',
        action='store_true',
        help='point -> rotated box with the converter (NPC across clicks), no mask layer',
    )
    model.add_argument('--npc-iou-thr', type=float, default=0.1, help='with --rboxes-only')
    add_scene_arguments(parser)
    out = parser.add_argument_group('output')
    out.add_argument('--format', choices=('gpkg', 'geojson', 'shp'), default='gpkg')
    out.add_argument('--simplify', type=float, help='simplify mask polygons (map units)')
    out.add_argument('--label-raster', action='store_true', help='also write STEM_labels.tif')
    out.add_argument('--chunk-windows', type=int, default=4, help='windows per resume record')
    out.add_argument('--no-resume', action='store_true', help='start afresh in OUT')
    out.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.config is None and args.checkpoint is None and args.arch is None:
        parser.error(
            'give --config (with --checkpoint or --sam-checkpoint), a SAM --checkpoint, '
            'or --arch (with --sam-checkpoint)'
        )
    if args.config is None and args.arch is not None and args.sam_checkpoint is None:
        parser.error('--arch needs --sam-checkpoint (a SAM file, or none: random weights)')
    return args


def _random(args) -> bool:
    return args.sam_checkpoint is not None and args.sam_checkpoint.lower() == 'none'


def build_inferencer(args):
    from mmpointsam.apis import PointSAMInferencer

    kwargs = dict(
        device=args.device,
        window_size=args.window_size,
        window_overlap=args.window_overlap,
        rbox_method=args.rbox_method,
        click_negatives=args.click_negatives,
        cfg_options=args.cfg_options,
        seed=args.seed,
    )
    if args.config is None and args.arch is not None:
        sam = None if _random(args) else args.sam_checkpoint
        return PointSAMInferencer(checkpoint=sam, arch=args.arch, img_size=args.img_size, **kwargs)
    return PointSAMInferencer(
        args.config, args.checkpoint, sam_checkpoint=args.sam_checkpoint, **kwargs
    )


def describe_weights(args) -> str:
    if _random(args):
        return f'RANDOM weights (seed {args.seed}): plumbing only, the masks mean nothing'
    parts = [f'config {args.config}'] if args.config else [f'arch {args.arch}']
    for name in ('checkpoint', 'sam_checkpoint'):
        if getattr(args, name):
            parts.append(f'{name} {getattr(args, name)}')
    return ', '.join(parts)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if _random(args):
        print(
            'geo segment: --sam-checkpoint none: SAM has RANDOM weights; this checks the '
            'plumbing only, the masks mean nothing.'
        )
    options = scene_options(args)
    if args.rboxes_only:
        from mmpointsam.apis import Point2RBoxConverter
        from mmpointsam.apis.inferencer import plain_sam_config
        from mmpointsam.geo import GeoPoint2RBox

        config, sam, trained = args.config, args.sam_checkpoint, args.checkpoint
        if config is None:  # a plain SAM: random (--arch, none) or from a SAM file
            from mmpointsam.apis.inferencer import _sam_arch_of

            weights = args.checkpoint or (None if _random(args) else args.sam_checkpoint)
            arch = args.arch or _sam_arch_of(weights)
            config, sam, trained = plain_sam_config(arch, args.img_size, weights), None, None
        converter = Point2RBoxConverter.from_config(
            config,
            checkpoint=trained,
            sam_checkpoint=sam,
            npc_iou_thr=args.npc_iou_thr,
            method=args.rbox_method,
            device=args.device or 'cpu',
            seed=args.seed,
            cfg_options=args.cfg_options,
            patch=dict(size=args.window_size, overlap=args.window_overlap),
        )
        summary = GeoPoint2RBox(converter).run(
            args.scene,
            args.points,
            args.out,
            fmt=args.format,
            resume=not args.no_resume,
            progress=not args.no_progress,
            **options,
        )
    else:
        from mmpointsam.geo import GeoSegmenter

        segmenter = GeoSegmenter(
            build_inferencer(args),
            chunk_windows=args.chunk_windows,
            description=describe_weights(args),
        )
        summary = segmenter.run(
            args.scene,
            args.points,
            args.out,
            fmt=args.format,
            simplify=args.simplify,
            label_raster=args.label_raster,
            resume=not args.no_resume,
            progress=not args.no_progress,
            **options,
        )
    for name, path in sorted(summary['outputs']['layers'].items()):
        print(f'{name}: {path}')
    return summary


if __name__ == '__main__':
    main()
