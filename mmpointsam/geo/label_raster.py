"""An instance label raster aligned with the scene, as a Cloud-Optimised GeoTIFF.

Same size, geotransform and CRS as the scene; pixel value ``raster_id`` of the object whose
mask covers it (0 background; where masks overlap, the higher score is on top). Written block by
block: only the blocks that masks touch are written (the others stay sparse, read as 0), so
memory follows the masks, not the scene; then copied to a COG (tiled, DEFLATE, overviews by
nearest neighbour) under a temporary name and renamed into place.
"""

import os
import os.path as osp
import shutil
import tempfile
from typing import List

import numpy as np

BLOCK = 512


def write_label_raster(
    path: str, masks: List[np.ndarray], offsets: np.ndarray, scores: np.ndarray, valid, source
) -> str:
    """Write the label raster of cropped ``masks`` (at ``offsets`` x, y) for ``source``."""
    import rasterio
    from rasterio.shutil import copy as copy_raster
    from rasterio.windows import Window

    dtype = 'uint16' if len(masks) < 65535 else 'uint32'
    out_dir = osp.dirname(osp.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=out_dir)
    try:
        tiled = osp.join(tmp_dir, 'tiled.tif')
        profile = dict(
            driver='GTiff',
            width=source.width,
            height=source.height,
            count=1,
            dtype=dtype,
            crs=source.crs.to_wkt() if source.crs is not None else None,
            transform=source.transform,
            tiled=True,
            blockxsize=BLOCK,
            blockysize=BLOCK,
            compress='deflate',
            sparse_ok=True,
            nodata=None,
        )
        order = [i for i in np.argsort(scores, kind='stable') if valid[i]]  # best painted last
        blocks = {}
        for i in order:
            (x, y), (h, w) = offsets[i], masks[i].shape
            for by in range(y // BLOCK, (y + h - 1) // BLOCK + 1):
                for bx in range(x // BLOCK, (x + w - 1) // BLOCK + 1):
                    blocks.setdefault((by, bx), []).append(i)
        with rasterio.Env(GDAL_CACHEMAX=64 * 2**20), rasterio.open(tiled, 'w', **profile) as dst:
            for (by, bx), members in sorted(blocks.items()):
                x0, y0 = bx * BLOCK, by * BLOCK
                x1, y1 = min(x0 + BLOCK, source.width), min(y0 + BLOCK, source.height)
                tile = np.zeros((y1 - y0, x1 - x0), dtype=dtype)
                for i in members:  # score order
                    (x, y), mask = offsets[i], masks[i]
                    sx0, sy0 = max(x, x0), max(y, y0)
                    sx1, sy1 = min(x + mask.shape[1], x1), min(y + mask.shape[0], y1)
                    if sx0 >= sx1 or sy0 >= sy1:
                        continue
                    part = mask[sy0 - y : sy1 - y, sx0 - x : sx1 - x]
                    tile[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0][part] = i + 1
                dst.write(tile, 1, window=Window(x0, y0, x1 - x0, y1 - y0))
        cog = osp.join(tmp_dir, 'cog.tif')
        with rasterio.Env(GDAL_CACHEMAX=64 * 2**20):
            copy_raster(
                tiled,
                cog,
                driver='COG',
                compress='deflate',
                overview_resampling='nearest',
                blocksize=BLOCK,
            )
        os.replace(cog, path)
        return path
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
