"""Per-scene percentile stretch: 16-bit, float and SAR rasters -> the 8-bit input SAM expects.

For each selected band, the ``low`` and ``high`` percentiles (2 and 98 by default) of the valid
pixels of a *sample* of the scene are mapped to 0 and 255, linearly, values beyond them clipped.
The sample is the raster's overview nearest to ``sample_size`` px a side when it has overviews
(a COG), else a regular grid of small windows spread over the scene (a decimated read): the
full-resolution scene is never read for it. SAR amplitude is taken to decibels (20 log10 a)
first, so that the stretch is linear in dB; SAR given in dB is stretched as is. The result
(``low``/``high`` per band, the percentiles, what it was computed from) goes into the outputs'
metadata, so the same mapping can be applied again.
"""

import math
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

SAR_MODES = (None, 'amplitude', 'db')
STRETCH_MODES = ('auto', 'percentile', 'none')


def to_decibels(values: np.ndarray) -> np.ndarray:
    """SAR amplitude -> dB (20 log10); non-positive amplitudes become NaN (invalid)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    positive = values > 0
    out[positive] = 20.0 * np.log10(values[positive])
    return out


@dataclass
class PercentileStretch:
    """The mapping of one scene: per band ``low`` -> 0 and ``high`` -> 255."""

    low: List[float]
    high: List[float]
    percentiles: Tuple[float, float] = (2.0, 98.0)
    sar: Optional[str] = None
    computed_from: str = ''
    num_samples: int = 0
    extra: dict = field(default_factory=dict)

    def apply(self, values: np.ndarray, valid: Optional[np.ndarray] = None) -> np.ndarray:
        """(bands, h, w) raw values -> (bands, h, w) uint8; invalid pixels (``valid`` False, NaN,
        non-positive SAR amplitude) become 0."""
        data = to_decibels(values) if self.sar == 'amplitude' else values.astype(np.float64)
        low = np.asarray(self.low, np.float64)[:, None, None]
        high = np.asarray(self.high, np.float64)[:, None, None]
        scaled = (data - low) * (255.0 / (high - low))
        bad = ~np.isfinite(scaled)
        if valid is not None:
            bad |= ~valid[None]
        scaled[bad] = 0
        return np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)

    def to_dict(self) -> dict:
        out = asdict(self)
        out['method'] = 'percentile'
        out['percentiles'] = list(self.percentiles)
        return out


def fit_stretch(
    samples: np.ndarray,
    valid: np.ndarray,
    percentiles: Sequence[float] = (2.0, 98.0),
    sar: Optional[str] = None,
    computed_from: str = '',
    where: str = '',
) -> PercentileStretch:
    """Fit the stretch to ``samples`` (bands, n) of raw values where ``valid`` (n,) is True."""
    if sar not in SAR_MODES:
        raise ValueError(f'sar must be one of {SAR_MODES}, got {sar!r}')
    lo_p, hi_p = (float(p) for p in percentiles)
    if not 0 <= lo_p < hi_p <= 100:
        raise ValueError(f'percentiles must satisfy 0 <= low < high <= 100, got {percentiles}')
    data = to_decibels(samples) if sar == 'amplitude' else samples.astype(np.float64)
    low, high = [], []
    for band, values in enumerate(data):
        good = values[valid & np.isfinite(values)]
        if good.size == 0:
            raise ValueError(
                f'{where}: no valid pixel in the stretch sample of band {band + 1} '
                f'({computed_from}); is the raster all nodata?'
            )
        lo, hi = np.percentile(good, [lo_p, hi_p])
        if not hi > lo:  # a constant band: map it to 0..1 above its value
            hi = lo + 1.0
        low.append(float(lo))
        high.append(float(hi))
    return PercentileStretch(
        low=low,
        high=high,
        percentiles=(lo_p, hi_p),
        sar=sar,
        computed_from=computed_from,
        num_samples=int(valid.sum()),
    )


def sample_windows(height: int, width: int, grid: int = 32, size: int = 32) -> List[tuple]:
    """A ``grid`` x ``grid`` lattice of ``size`` px windows (col_off, row_off, w, h) spread evenly
    over the scene (fewer on a small scene): the decimated read of a raster without overviews."""
    rows = min(grid, max(1, height // size))
    cols = min(grid, max(1, width // size))
    h, w = min(size, height), min(size, width)
    out = []
    for i in range(rows):
        y = 0 if rows == 1 else round(i * (height - h) / (rows - 1))
        for j in range(cols):
            x = 0 if cols == 1 else round(j * (width - w) / (cols - 1))
            out.append((x, y, w, h))
    return out


def overview_shape(height: int, width: int, factors: Sequence[int], sample_size: int):
    """The overview (factor, (h, w)) whose larger side is closest above ``sample_size``, or None
    without overviews."""
    if not factors:
        return None
    best = None
    for f in sorted(factors):
        shape = (math.ceil(height / f), math.ceil(width / f))
        if best is None or max(shape) >= sample_size:
            best = (f, shape)
    return best
