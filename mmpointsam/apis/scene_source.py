"""Where the pixels of a scene come from: ``read(window)`` gives one window as uint8 BGR.

The inferencer's window logic asks a scene source for each window it runs, so a large raster on
disk (:class:`mmpointsam.geo.RasterSource`) is read window by window and memory follows the
window, not the scene. An image already in memory, or a PNG/JPEG decoded whole, is an
:class:`ArraySceneSource`.
"""

import os
import os.path as osp
from typing import Tuple

import numpy as np

# extensions opened with GDAL (windowed reads) rather than decoded whole by OpenCV
RASTER_EXTENSIONS = ('.tif', '.tiff', '.vrt', '.jp2', '.img', '.ntf')


class SceneSource:
    """A scene of ``shape`` (H, W) whose windows ``x0, y0, x1, y1`` (pixel corners, end
    exclusive) :meth:`read` returns as (y1 - y0, x1 - x0, 3) uint8 BGR."""

    path: str = 'array'
    shape: Tuple[int, int]

    def read(self, window) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> dict:
        return dict(path=self.path, height=self.shape[0], width=self.shape[1])


class ArraySceneSource(SceneSource):
    """An (H, W, 3) uint8 BGR image in memory (an (H, W) grey image is repeated to 3 channels,
    an alpha channel dropped)."""

    def __init__(self, img: np.ndarray, path: str = 'array') -> None:
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.ndim != 3 or img.shape[2] not in (3, 4) or img.dtype != np.uint8:
            raise ValueError(
                f'an image array must be (H, W, 3) uint8 BGR, got {img.shape} {img.dtype}'
            )
        self.img = img[..., :3]
        self.path = path
        self.shape = tuple(img.shape[:2])

    def read(self, window) -> np.ndarray:
        x0, y0, x1, y1 = (int(v) for v in window)
        return np.ascontiguousarray(self.img[y0:y1, x0:x1])


def is_raster_path(path: str) -> bool:
    """True for files opened with GDAL (GeoTIFF, COG, VRT, JPEG 2000...), read by windows."""
    return str(path).lower().endswith(RASTER_EXTENSIONS)


def open_scene(image, **raster_options) -> SceneSource:
    """A scene source for a path, an array or a scene source (returned as it is).

    A GDAL raster path becomes a :class:`~mmpointsam.geo.RasterSource` (``raster_options``
    go to it: ``bands``, ``stretch``, ``sar``...; pixel clicks need no CRS); other image files are
    decoded whole with mmcv (as ``cv2.imread``).
    """
    if isinstance(image, SceneSource):
        return image
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if is_raster_path(path):
            from mmpointsam.geo import RasterSource

            raster_options.setdefault('require_crs', False)
            return RasterSource(path, **raster_options)
        if raster_options:
            raise ValueError(f'{path}: {sorted(raster_options)} apply to GDAL rasters only')
        if not osp.isfile(path):
            raise FileNotFoundError(f'image not found: {path}')
        import mmcv

        img = mmcv.imread(path, 'color')
        if img is None:
            raise ValueError(f'{path}: not a readable image')
        return ArraySceneSource(img, path)
    return ArraySceneSource(image)
