"""A GDAL raster read window by window: the scene source of large GeoTIFF / COG / VRT scenes.

Only the pixels of a requested window are read (plus GDAL's block cache, capped at
``cache_mb``), so memory follows the window, never the scene. Each window comes back as the
(h, w, 3) uint8 BGR image the models take (as ``cv2.imread`` gives): the selected bands (1 band
is repeated to grey), 16-bit / float / SAR values through the scene's percentile stretch
(:mod:`.stretch`), nodata pixels set to 0.
"""

import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np

from mmpointsam.apis.scene_source import RASTER_EXTENSIONS, SceneSource

from .crs import crs_name, parse_crs
from .errors import MissingCRSError
from .stretch import STRETCH_MODES, fit_stretch, overview_shape, sample_windows

__all__ = ['RASTER_EXTENSIONS', 'RasterSource']


class RasterSource(SceneSource):
    """A raster opened with rasterio; :meth:`read` gives one window as uint8 BGR.

    Args:
        path: any GDAL-readable raster.
        bands: 1-based band numbers, 1 or 3 of them (RGB order); default: bands 1-3 when the
            raster has 3 or more, else band 1.
        stretch: ``'auto'`` (8-bit bands as they are, anything else through the percentile
            stretch), ``'percentile'`` (always) or ``'none'`` (8-bit only).
        percentiles: the stretch's low and high percentiles.
        sar: ``'amplitude'`` (stretched in dB) or ``'db'`` for SAR rasters; None otherwise.
        assume_crs: the CRS of a raster that has none (an explicit override; a raster with a
            CRS keeps its own).
        require_crs: raise :class:`MissingCRSError` for a raster without a CRS and no
            ``assume_crs`` (pixel-only use passes False).
        cache_mb: GDAL's block cache while reading, in MiB (GDAL's default is 5 % of RAM,
            which a scene-wide walk would fill).
        sample_size: side of the stretch sample (overview or decimated read), in pixels.
    """

    def __init__(
        self,
        path: str,
        bands: Optional[Sequence[int]] = None,
        stretch: str = 'auto',
        percentiles: Sequence[float] = (2.0, 98.0),
        sar: Optional[str] = None,
        assume_crs=None,
        require_crs: bool = True,
        cache_mb: int = 64,
        sample_size: int = 1024,
    ) -> None:
        import rasterio

        if stretch not in STRETCH_MODES:
            raise ValueError(f'stretch must be one of {STRETCH_MODES}, got {stretch!r}')
        self.path = str(path)
        if (
            not osp.exists(self.path)
            and '://' not in self.path
            and not self.path.startswith('/vsi')
        ):
            raise FileNotFoundError(f'raster not found: {self.path}')
        self._env_options = dict(GDAL_CACHEMAX=int(cache_mb) * 2**20)
        with rasterio.Env(**self._env_options):
            try:
                self._ds = rasterio.open(self.path)
            except rasterio.errors.RasterioIOError as e:
                raise ValueError(f'{self.path}: not a raster GDAL can read ({e})') from None
        ds = self._ds
        self.height, self.width = ds.height, ds.width
        self.count = ds.count
        self.transform = ds.transform
        self.bands = self._select_bands(bands)
        self.dtypes = [ds.dtypes[b - 1] for b in self.bands]
        self.nodata = ds.nodata
        own = parse_crs(ds.crs) if ds.crs else None
        self.crs_assumed = own is None and assume_crs is not None
        self.crs = own if own is not None else parse_crs(assume_crs, 'assume_crs')
        if self.crs is None and require_crs:
            raise MissingCRSError(
                f'{self.path}: the raster has no coordinate reference system; give the one it '
                'is in with --assume-crs (assume_crs=), e.g. --assume-crs EPSG:32650'
            )
        if ds.transform.is_identity and require_crs:
            raise MissingCRSError(
                f'{self.path}: the raster has no geotransform (pixel coordinates only), so '
                'map coordinates cannot be placed on it'
            )
        self.sar = sar
        eight_bit = all(d == 'uint8' for d in self.dtypes)
        if stretch == 'none' and not eight_bit:
            raise ValueError(
                f'{self.path}: bands {self.bands} are {sorted(set(self.dtypes))}, not 8-bit: '
                "they need the percentile stretch (stretch='auto' or 'percentile')"
            )
        if sar is not None and stretch == 'none':
            raise ValueError(f'{self.path}: a SAR raster needs the stretch')
        self.stretch = None
        if stretch == 'percentile' or (stretch == 'auto' and (not eight_bit or sar is not None)):
            self.stretch = self._fit_stretch(percentiles, sar, sample_size)

    # ------------------------------------------------------------------ set-up
    def _select_bands(self, bands) -> Tuple[int, ...]:
        count = self.count
        if bands is None:
            if count >= 3:
                return (1, 2, 3)
            return (1,)
        bands = tuple(int(b) for b in bands)
        if len(bands) not in (1, 3):
            raise ValueError(f'{self.path}: give 1 or 3 bands (grey or R G B), got {list(bands)}')
        bad = [b for b in bands if not 1 <= b <= count]
        if bad:
            raise ValueError(
                f'{self.path}: bands {bad} do not exist (the raster has {count} band(s), '
                'numbered from 1)'
            )
        return bands

    def _fit_stretch(self, percentiles, sar, sample_size: int):
        ds = self._ds
        factors = ds.overviews(self.bands[0])
        import rasterio
        from rasterio.enums import Resampling
        from rasterio.windows import Window

        with rasterio.Env(**self._env_options):
            choice = overview_shape(self.height, self.width, factors, sample_size)
            if choice is not None:
                factor, shape = choice
                data = ds.read(
                    list(self.bands),
                    out_shape=(len(self.bands),) + shape,
                    resampling=Resampling.nearest,
                )
                masks = ds.read_masks(
                    list(self.bands),
                    out_shape=(len(self.bands),) + shape,
                    resampling=Resampling.nearest,
                )
                samples = data.reshape(len(self.bands), -1)
                valid = (masks > 0).all(axis=0).reshape(-1)
                source = f'overview 1/{factor} ({shape[1]}x{shape[0]} px)'
            else:
                windows = sample_windows(self.height, self.width)
                parts, valids = [], []
                for x, y, w, h in windows:
                    win = Window(x, y, w, h)
                    parts.append(ds.read(list(self.bands), window=win).reshape(len(self.bands), -1))
                    masks = ds.read_masks(list(self.bands), window=win)
                    valids.append((masks > 0).all(axis=0).reshape(-1))
                samples, valid = np.concatenate(parts, axis=1), np.concatenate(valids)
                w, h = windows[0][2], windows[0][3]
                source = (
                    f'decimated read: {len(windows)} windows of {w}x{h} px spread over the scene'
                )
        return fit_stretch(samples, valid, percentiles, sar, source, where=self.path)

    # ------------------------------------------------------------------ reading
    @property
    def shape(self) -> Tuple[int, int]:
        return (self.height, self.width)

    def _window(self, window):
        from rasterio.windows import Window

        x0, y0, x1, y1 = (int(v) for v in window)
        if not (0 <= x0 < x1 <= self.width and 0 <= y0 < y1 <= self.height):
            raise ValueError(
                f'{self.path}: window {[x0, y0, x1, y1]} is not inside the '
                f'{self.width}x{self.height} raster'
            )
        return Window(x0, y0, x1 - x0, y1 - y0)

    def read_raw(self, window) -> Tuple[np.ndarray, np.ndarray]:
        """Raw values (bands, h, w) of the selected bands and the valid mask (h, w)."""
        import rasterio

        win = self._window(window)
        with rasterio.Env(**self._env_options):
            data = self._ds.read(list(self.bands), window=win)
            masks = self._ds.read_masks(list(self.bands), window=win)
        return data, (masks > 0).all(axis=0)

    def read(self, window) -> np.ndarray:
        """The window ``x0, y0, x1, y1`` (pixel corners, end exclusive) as (h, w, 3) uint8 BGR."""
        data, valid = self.read_raw(window)
        if self.stretch is not None:
            img = self.stretch.apply(data, valid)
        else:
            img = data.astype(np.uint8, copy=False)
            img = np.where(valid[None], img, 0).astype(np.uint8)
        if img.shape[0] == 1:
            img = np.repeat(img, 3, axis=0)
        return np.ascontiguousarray(img[::-1].transpose(1, 2, 0))  # RGB planes -> HWC BGR

    def valid_mask(self, window) -> np.ndarray:
        """(h, w) bool: True where every selected band has data."""
        import rasterio

        win = self._window(window)
        with rasterio.Env(**self._env_options):
            masks = self._ds.read_masks(list(self.bands), window=win)
        return (masks > 0).all(axis=0)

    def valid_at(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per pixel (col, row): True where every selected band has data (1x1 reads)."""
        import rasterio
        from rasterio.windows import Window

        out = np.zeros(len(cols), dtype=bool)
        with rasterio.Env(**self._env_options):
            for i, (c, r) in enumerate(zip(cols, rows)):
                masks = self._ds.read_masks(list(self.bands), window=Window(int(c), int(r), 1, 1))
                out[i] = bool((masks > 0).all())
        return out

    # ------------------------------------------------------------------ description
    def describe(self) -> dict:
        """What the outputs record about the input raster and how it was read."""
        return dict(
            path=osp.abspath(self.path) if osp.exists(self.path) else self.path,
            width=self.width,
            height=self.height,
            bands=list(self.bands),
            dtypes=list(self.dtypes),
            nodata=self.nodata,
            crs=crs_name(self.crs),
            crs_wkt=self.crs.to_wkt() if self.crs is not None else None,
            crs_assumed=self.crs_assumed,
            transform=list(self.transform)[:6],
            sar=self.sar,
            stretch=self.stretch.to_dict() if self.stretch is not None else None,
        )

    def close(self) -> None:
        if getattr(self, '_ds', None) is not None:
            self._ds.close()
            self._ds = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
