"""A georeferenced scene and a point layer -> a point-label training set (chips).

    python tools/dataset_converters/geo_to_point_labels.py scene.tif clicks.gpkg data/my_scene \
        --class-field class [--chip-size 1024] [--mode clicks|grid]

Writes data/my_scene/images/*.png (8-bit chips), data/my_scene/clicks/train.json (point labels in
chip pixels) and data/my_scene/chips.json (each chip's window and geotransform), the layout the
clicks configs read: train with
``python tools/train.py configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu-clicks.py
--cfg-options train_dataloader.dataset.data_root=data/my_scene/`` (after computing its
prototypes the same way). ``mmpointsam.geo.ChipIndex`` maps predictions on chips back to the scene.
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmpointsam  # noqa: E402,F401
from mmpointsam.geo.arguments import add_scene_arguments, scene_options  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scene', help='a GDAL raster (GeoTIFF, COG, VRT...)')
    parser.add_argument('points', help='click layer: GeoPackage, GeoJSON, Shapefile or CSV')
    parser.add_argument('out_dir', help='dataset folder (images/, clicks/train.json, chips.json)')
    parser.add_argument('--chip-size', type=int, default=1024)
    parser.add_argument('--mode', choices=('clicks', 'grid'), default='clicks')
    parser.add_argument('--overlap', type=int, default=200, help='grid mode: chip overlap (px)')
    parser.add_argument(
        '--margin',
        type=int,
        default=64,
        help='clicks mode: an object counts as covered this far inside a chip (px)',
    )
    add_scene_arguments(parser)
    parser.add_argument('--no-resume', action='store_true')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    from mmpointsam.geo import scene_to_point_labels

    args = parse_args(argv)
    summary = scene_to_point_labels(
        args.scene,
        args.points,
        args.out_dir,
        chip_size=args.chip_size,
        mode=args.mode,
        overlap=args.overlap,
        margin=args.margin,
        resume=not args.no_resume,
        progress=not args.no_progress,
        **scene_options(args),
    )
    print(
        f'{summary["chips"]} chips, {summary["annotations"]} annotations of '
        f'{summary["objects"]} objects -> {summary["json"]}, {summary["index"]}'
    )
    return summary


if __name__ == '__main__':
    main()
