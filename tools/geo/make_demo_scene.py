"""A georeferenced demo scene from NWPU VHR-10: a mosaic of real images as a COG in UTM zone 50N
(0.5 m pixels) and a click layer (box centres of the annotated objects, with their class) as a
GeoPackage in EPSG:4326, to try tools/geo/segment.py without data of your own.

    python tools/geo/make_demo_scene.py data/nwpu_vhr10/annotations/NWPU_instances_val.json \
        data/nwpu_vhr10/images demo_geo --size 2400 1600
"""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('coco_json', help='NWPU VHR-10 COCO json (boxes give the clicks)')
    parser.add_argument('img_dir')
    parser.add_argument('out_dir', help='writes scene.tif and clicks.gpkg there')
    parser.add_argument('--size', type=int, nargs=2, default=(2400, 1600), metavar=('W', 'H'))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    import numpy as np

    from mmpointsam.testing import build_mosaic
    from mmpointsam.testing.geo_scene import (
        UTM_CRS,
        bgr_to_bands,
        pixel_centres_to_crs,
        scene_transform,
        write_click_layer,
        write_geotiff,
    )

    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    mosaic = build_mosaic(args.coco_json, args.img_dir, size=tuple(args.size))
    scene = write_geotiff(
        osp.join(args.out_dir, 'scene.tif'), bgr_to_bands(mosaic['img']), cog=True, block=512
    )
    names = {c['id']: c['name'] for c in mosaic['coco']['categories']}
    anns = mosaic['coco']['annotations']
    pixels = np.array([[int(a['bbox'][0] + a['bbox'][2] / 2), int(a['bbox'][1] + a['bbox'][3] / 2)]
                       for a in anns]).reshape(-1, 2)  # fmt: skip
    lonlat = pixel_centres_to_crs(pixels, scene_transform(), UTM_CRS, 'EPSG:4326')
    clicks = write_click_layer(
        osp.join(args.out_dir, 'clicks.gpkg'),
        lonlat,
        'EPSG:4326',
        {'class': [names[a['category_id']] for a in anns]},
    )
    print(f'{scene}: {args.size[0]}x{args.size[1]} px, {len(mosaic["placements"])} images; '
          f'{clicks}: {len(anns)} clicks')  # fmt: skip
    return dict(scene=scene, clicks=clicks, num_clicks=len(anns))


if __name__ == '__main__':
    main()
