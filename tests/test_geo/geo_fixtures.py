"""Georeferenced scenes for the geo tests, built inside the tests from real NWPU VHR-10 images:
a 1400 x 1100 mosaic as GeoTIFFs in UTM zone 50N (0.5 m pixels): 3-band 8-bit, 16-bit with a
nodata border, a 16-bit COG with overviews; clicks (box centres of real objects) as a GeoPackage
in EPSG:4326 with a class attribute."""

import os.path as osp

import numpy as np
import torch
from conftest import NWPU

from mmpointsam.testing import build_mosaic
from mmpointsam.testing.geo_scene import (
    UTM_CRS,
    bgr_to_bands,
    pixel_centres_to_crs,
    scene_transform,
    write_click_layer,
    write_geotiff,
)

SIZE = (1400, 1100)  # width, height: the 4 training images of tests/data/nwpu_vhr10
BORDER = 40  # nodata border of the 16-bit scenes (px)
WINDOW = dict(window_size=1024, window_overlap=256)


def build_scenes(root: str) -> dict:
    mosaic = build_mosaic(
        osp.join(NWPU, 'annotations', 'train.json'), osp.join(NWPU, 'images'), size=SIZE
    )
    img = mosaic['img']
    names = {c['id']: c['name'] for c in mosaic['coco']['categories']}
    centre = {
        a['id']: (int(a['bbox'][0] + a['bbox'][2] / 2), int(a['bbox'][1] + a['bbox'][3] / 2))
        for a in mosaic['coco']['annotations']
    }
    # objects whose centre is off the 16-bit scenes' nodata border
    anns = [
        a
        for a in mosaic['coco']['annotations']
        if BORDER <= centre[a['id']][0] < SIZE[0] - BORDER
        and BORDER <= centre[a['id']][1] < SIZE[1] - BORDER
    ][::2]  # every other one: 14 objects over the 4 images keep the tests fast
    pixels = np.array([centre[a['id']] for a in anns])
    classes = [names[a['category_id']] for a in anns]
    transform = scene_transform()
    rgb8 = write_geotiff(osp.join(root, 'scene_rgb8.tif'), bgr_to_bands(img))
    # 16-bit: 12-bit-like values >= 100 (so 0 is only ever nodata), a nodata border
    u16 = bgr_to_bands(img).astype(np.uint16) * 16 + 100
    u16[:, :BORDER] = 0
    u16[:, -BORDER:] = 0
    u16[:, :, :BORDER] = 0
    u16[:, :, -BORDER:] = 0
    plain16 = write_geotiff(osp.join(root, 'scene_u16.tif'), u16, nodata=0)
    cog16 = write_geotiff(osp.join(root, 'scene_u16_cog.tif'), u16, nodata=0, cog=True)
    lonlat = pixel_centres_to_crs(pixels, transform, UTM_CRS, 'EPSG:4326')
    gpkg = write_click_layer(
        osp.join(root, 'clicks.gpkg'), lonlat, 'EPSG:4326', dict(**{'class': classes})
    )
    return dict(
        img=img,
        u16=u16,
        pixels=pixels,
        classes=classes,
        lonlat=lonlat,
        transform=transform,
        rgb8=rgb8,
        u16_path=plain16,
        cog16=cog16,
        gpkg=gpkg,
        root=root,
    )


def tiny_inferencer():
    """The tiny SAM with random weights (seed 0) and 1024 px windows (the scene spans 4)."""
    from mmpointsam.apis import PointSAMInferencer

    torch.manual_seed(0)
    return PointSAMInferencer(arch='tiny', img_size=256, device='cpu', **WINDOW)
