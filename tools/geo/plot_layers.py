"""Draw the layers of tools/geo/segment.py over their scene (a picture for a report or the docs).

    python tools/geo/plot_layers.py scene.tif out/scene.gpkg --clicks clicks.gpkg --out pic.jpg

The scene is read decimated to at most --max-side pixels (GDAL picks overviews when the raster
has them), never whole at full resolution; axes are map coordinates of the raster's CRS.
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scene', help='the raster the layers were made on')
    parser.add_argument('layers', help='STEM.gpkg, or STEM_masks.geojson / .shp')
    parser.add_argument('--rboxes', help='the rboxes layer file when not in a GeoPackage')
    parser.add_argument('--clicks', help='the click layer (drawn as crosses)')
    parser.add_argument('--out', required=True, help='picture file (.jpg, .png)')
    parser.add_argument('--title', default='')
    parser.add_argument('--max-side', type=int, default=1600)
    parser.add_argument('--bands', type=int, nargs='+')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def main(argv=None) -> str:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    import pyogrio
    import rasterio
    from rasterio.enums import Resampling

    from mmpointsam.geo import RasterSource

    args = parse_args(argv)
    src = RasterSource(args.scene, bands=args.bands)
    scale = max(src.height, src.width) / args.max_side
    shape = (max(1, round(src.height / max(scale, 1))), max(1, round(src.width / max(scale, 1))))
    with rasterio.open(args.scene) as ds:
        data = ds.read(
            list(src.bands), out_shape=(len(src.bands),) + shape, resampling=Resampling.average
        )
        valid = (ds.read_masks(list(src.bands), out_shape=(len(src.bands),) + shape) > 0).all(0)
    img = src.stretch.apply(data, valid) if src.stretch is not None else data.astype(np.uint8)
    if img.shape[0] == 1:
        img = np.repeat(img, 3, axis=0)
    left, top = src.transform.c, src.transform.f
    right = left + src.transform.a * src.width
    bottom = top + src.transform.e * src.height
    gpkg = args.layers.endswith('.gpkg')
    masks = pyogrio.read_dataframe(args.layers, layer='masks' if gpkg else None)
    rbox_path = args.layers if gpkg else args.rboxes
    boxes = (
        pyogrio.read_dataframe(rbox_path, layer='rboxes' if gpkg else None) if rbox_path else None
    )
    # masks burnt at display resolution (fast for masks of thousands of pieces, holes kept)
    from affine import Affine
    from rasterio import features

    display = src.transform * Affine.scale(src.width / shape[1], src.height / shape[0])
    shapes = [(g, i + 1) for i, g in enumerate(masks.geometry) if g is not None and not g.is_empty]
    label = (
        features.rasterize(shapes, out_shape=shape, transform=display, dtype='int32')
        if shapes
        else np.zeros(shape, np.int32)
    )
    colours = plt.get_cmap('tab10')
    rgb = img.transpose(1, 2, 0).astype(np.float64) / 255
    lut = np.array([colours(i % 10)[:3] for i in range(max(len(masks), 1))])
    on = label > 0
    rgb[on] = 0.5 * rgb[on] + 0.5 * lut[label[on] - 1]
    fig, ax = plt.subplots(figsize=(shape[1] / args.dpi, shape[0] / args.dpi + 0.6), dpi=args.dpi)
    ax.imshow(rgb, extent=(left, right, bottom, top))
    if boxes is not None:
        for i, geom in enumerate(boxes.geometry):
            if geom is not None and not geom.is_empty:
                x, y = geom.exterior.xy
                ax.plot(x, y, color=colours(i % 10), linewidth=1.2)
    if args.clicks:
        clicks = pyogrio.read_dataframe(args.clicks).to_crs(masks.crs)
        ax.plot(clicks.geometry.x, clicks.geometry.y, 'x', color='yellow', markersize=6, mew=1.5)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    epsg = masks.crs.to_epsg() if masks.crs is not None else None
    ax.set_xlabel(f'easting (EPSG:{epsg})' if epsg else 'x')
    ax.set_ylabel('northing')
    ax.ticklabel_format(useOffset=False, style='plain')
    if args.title:
        ax.set_title(args.title, fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=args.dpi)
    plt.close(fig)
    print(f'wrote {args.out}')
    return args.out


if __name__ == '__main__':
    main()
