"""Georeferenced test scenes built from real images: GeoTIFFs (8-bit, 16-bit, COG with
overviews, nodata borders, large sparse scenes written by windows) in a projected CRS with a real
geotransform, and click layers written in another CRS."""

import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

# a UTM zone over north China (NWPU VHR-10's images come from there), 0.5 m pixels
UTM_CRS = 'EPSG:32650'
ORIGIN = (448000.0, 4412000.0)
PIXEL_SIZE = 0.5


def scene_transform(origin=ORIGIN, pixel_size: float = PIXEL_SIZE):
    """North-up geotransform: top-left corner ``origin``, square pixels of ``pixel_size``."""
    from affine import Affine

    return Affine(pixel_size, 0.0, origin[0], 0.0, -pixel_size, origin[1])


def write_geotiff(
    path: str,
    bands: np.ndarray,
    crs: Optional[str] = UTM_CRS,
    transform=None,
    nodata=None,
    cog: bool = False,
    block: int = 256,
) -> str:
    """Write (bands, H, W) values as a tiled, DEFLATE GeoTIFF (``cog``: a Cloud-Optimised
    GeoTIFF with overviews, nearest-neighbour)."""
    import rasterio
    from rasterio.shutil import copy as copy_raster

    bands = np.asarray(bands)
    count, height, width = bands.shape
    profile = dict(
        driver='GTiff',
        width=width,
        height=height,
        count=count,
        dtype=bands.dtype.name,
        crs=crs,
        transform=transform if transform is not None else scene_transform(),
        nodata=nodata,
        tiled=True,
        blockxsize=block,
        blockysize=block,
        compress='deflate',
    )
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    target = path + '.plain.tif' if cog else path
    with rasterio.open(target, 'w', **profile) as dst:
        dst.write(bands)
    if cog:
        copy_raster(
            target,
            path,
            driver='COG',
            compress='deflate',
            overview_resampling='nearest',
            blocksize=block,
        )
        os.remove(target)
    return path


def bgr_to_bands(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR (cv2) -> (3, H, W) RGB bands."""
    return np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1))


def pixel_centres_to_crs(pixels: np.ndarray, transform, src_crs: str, dst_crs: str) -> np.ndarray:
    """Map coordinates in ``dst_crs`` of the centres of pixels (K, 2) col, row."""
    from pyproj import Transformer

    pixels = np.asarray(pixels, np.float64).reshape(-1, 2)
    from mmpointsam.geo.geometry import apply_affine

    xs, ys = apply_affine(transform, pixels[:, 0] + 0.5, pixels[:, 1] + 0.5)
    if src_crs == dst_crs:
        return np.stack([xs, ys], axis=1)
    tr = Transformer.from_crs(src_crs, dst_crs, always_xy=True)
    return np.stack(tr.transform(xs, ys), axis=1)


def write_click_layer(
    path: str,
    xy: np.ndarray,
    crs: Optional[str],
    attributes: Optional[dict] = None,
    driver: Optional[str] = None,
    layer: str = 'clicks',
) -> str:
    """Write points (K, 2) with ``attributes`` (name -> K values) as a vector layer."""
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(
        dict(attributes or {}), geometry=[Point(x, y) for x, y in np.asarray(xy)], crs=crs
    )
    pyogrio.write_dataframe(frame, path, layer=layer, driver=driver)
    return path


def write_sparse_scene(
    path: str,
    size: int,
    tiles: Sequence[tuple],
    crs: str = UTM_CRS,
    transform=None,
    block: int = 512,
) -> str:
    """A ``size`` x ``size`` 3-band 8-bit GeoTIFF, zero except for ``tiles`` (x, y, BGR image)
    pasted at (x, y); written block by block and sparse (unwritten blocks take no space), so a
    40,000 px scene costs a few MB of disk and memory."""
    import rasterio
    from rasterio.windows import Window

    profile = dict(
        driver='GTiff',
        width=size,
        height=size,
        count=3,
        dtype='uint8',
        crs=crs,
        transform=transform if transform is not None else scene_transform(),
        tiled=True,
        blockxsize=block,
        blockysize=block,
        compress='deflate',
        sparse_ok=True,
        bigtiff='if_safer',
    )
    with rasterio.Env(GDAL_CACHEMAX=64 * 2**20), rasterio.open(path, 'w', **profile) as dst:
        for x, y, img in tiles:
            h, w = img.shape[:2]
            w, h = min(w, size - x), min(h, size - y)
            if w > 0 and h > 0:
                dst.write(bgr_to_bands(img[:h, :w]), window=Window(x, y, w, h))
    return path
