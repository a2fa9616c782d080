"""RasterSource: windows of 8-bit / 16-bit / COG GeoTIFFs as the model's BGR input, the
per-scene percentile stretch (from overviews or a decimated read), SAR, nodata, bands."""

import numpy as np
import pytest
import rasterio
from geo_fixtures import BORDER, build_scenes

from mmpointsam.geo import MissingCRSError, RasterSource
from mmpointsam.geo.stretch import PercentileStretch, sample_windows
from mmpointsam.testing.geo_scene import write_geotiff


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    return build_scenes(str(tmp_path_factory.mktemp('geo_scene')))


def test_eight_bit_windows_are_the_images_pixels(scene):
    src = RasterSource(scene['rgb8'])
    assert src.shape == (1100, 1400) and src.bands == (1, 2, 3) and src.stretch is None
    assert src.describe()['crs'] == 'EPSG:32650'
    for window in ([0, 0, 1400, 1100], [100, 200, 612, 712], [1399, 1099, 1400, 1100]):
        x0, y0, x1, y1 = window
        np.testing.assert_array_equal(src.read(window), scene['img'][y0:y1, x0:x1])
    # --bands 3 2 1 reverses the channels; one band is repeated to grey
    swapped = RasterSource(scene['rgb8'], bands=[3, 2, 1]).read([0, 0, 50, 40])
    np.testing.assert_array_equal(swapped, scene['img'][:40, :50, ::-1])
    grey = RasterSource(scene['rgb8'], bands=[2]).read([0, 0, 50, 40])
    np.testing.assert_array_equal(grey, np.repeat(scene['img'][:40, :50, 1:2], 3, axis=2))
    with pytest.raises(ValueError, match=r'scene_rgb8\.tif: bands \[4\] do not exist'):
        RasterSource(scene['rgb8'], bands=[4, 2, 1])
    with pytest.raises(ValueError, match='give 1 or 3 bands'):
        RasterSource(scene['rgb8'], bands=[1, 2])
    with pytest.raises(ValueError, match='not inside the 1400x1100 raster'):
        src.read([1300, 0, 1500, 10])


def _expected_stretch(values, valid, percentiles=(2, 98)):
    lo, hi = np.percentile(values[:, valid], percentiles, axis=1)
    return lo, hi


def test_sixteen_bit_cog_stretch_comes_from_an_overview(scene):
    src = RasterSource(scene['cog16'])
    st = src.stretch
    assert st is not None and st.computed_from.startswith('overview 1/')
    factor = int(st.computed_from.split('1/')[1].split()[0])
    with rasterio.open(scene['cog16']) as ds:
        assert factor in ds.overviews(1)
        shape = (3,) + tuple(-(-n // factor) for n in (ds.height, ds.width))
        values = ds.read(out_shape=shape).reshape(3, -1)
        valid = (ds.read_masks(out_shape=shape) > 0).all(0).reshape(-1)
    lo, hi = _expected_stretch(values, valid)
    np.testing.assert_allclose(st.low, lo)
    np.testing.assert_allclose(st.high, hi)
    assert st.num_samples == valid.sum() < values.shape[1]  # the nodata border is left out
    # a window: nodata -> 0, the rest through the stretch
    win = src.read([0, 0, 300, 200])
    assert (win[:BORDER] == 0).all() and (win[:, :BORDER] == 0).all()
    raw = scene['u16'][:, BORDER:200, BORDER:300].astype(np.float64)
    want = np.clip(np.rint((raw - lo[:, None, None]) * 255 / (hi - lo)[:, None, None]), 0, 255)
    np.testing.assert_array_equal(win[BORDER:, BORDER:], want[::-1].transpose(1, 2, 0))
    meta = src.describe()['stretch']
    assert meta['method'] == 'percentile' and meta['percentiles'] == [2.0, 98.0]
    assert meta['low'] == st.low and meta['high'] == st.high


def test_sixteen_bit_without_overviews_uses_a_decimated_read(scene):
    src = RasterSource(scene['u16_path'])
    st = src.stretch
    assert st.computed_from.startswith('decimated read: ')
    windows = sample_windows(1100, 1400)
    assert len(windows) == 32 * 32 and all(w == (w[0], w[1], 32, 32) for w in windows)
    covered = sum(w * h for _, _, w, h in windows)
    assert covered < 1100 * 1400  # a sample, not the scene
    u16 = scene['u16']
    values = np.concatenate(
        [u16[:, y : y + h, x : x + w].reshape(3, -1) for x, y, w, h in windows], 1
    )
    lo, hi = _expected_stretch(values, (values > 0).all(0))
    np.testing.assert_allclose(st.low, lo)
    np.testing.assert_allclose(st.high, hi)
    assert src.valid_mask([0, 0, 60, 60])[:BORDER].sum() == 0
    assert src.valid_at(
        np.array([BORDER - 1, BORDER, 700]), np.array([500, 500, BORDER - 1])
    ).tolist() == [False, True, False]
    with pytest.raises(ValueError, match='not 8-bit'):
        RasterSource(scene['u16_path'], stretch='none')


def test_sar_amplitude_is_stretched_in_decibels(tmp_path):
    rng = np.random.default_rng(0)
    amplitude = rng.gamma(1.0, 200.0, size=(1, 256, 320)).astype(np.float32) + 1.0
    amp_path = write_geotiff(str(tmp_path / 'sar_amp.tif'), amplitude)
    db_path = write_geotiff(str(tmp_path / 'sar_db.tif'), 20 * np.log10(amplitude))
    amp = RasterSource(amp_path, sar='amplitude')
    db = RasterSource(db_path, sar='db')
    decibels = 20 * np.log10(amplitude.astype(np.float64)).reshape(-1)
    lo, hi = np.percentile(decibels, [2, 98])
    np.testing.assert_allclose(amp.stretch.low, [lo], rtol=1e-9)
    np.testing.assert_allclose(amp.stretch.high, [hi], rtol=1e-9)
    np.testing.assert_allclose(db.stretch.low, amp.stretch.low, rtol=1e-5)
    a, d = amp.read([0, 0, 320, 256]), db.read([0, 0, 320, 256])
    assert a.shape == (256, 320, 3) and (a[..., 0] == a[..., 2]).all()
    assert np.abs(a.astype(int) - d.astype(int)).max() <= 1  # float32 dB rounding
    assert (a == 0).mean() == pytest.approx(0.02, abs=0.005)  # below the 2nd percentile
    assert (a == 255).mean() == pytest.approx(0.02, abs=0.005)
    st = PercentileStretch(low=[0.0], high=[51.0], sar='amplitude')
    np.testing.assert_array_equal(
        st.apply(np.array([[[1.0, 10.0, 0.0, 1e3]]])), [[[0, 100, 0, 255]]]
    )  # 0 dB -> 0, 20 dB -> 100, amplitude 0 is invalid -> 0, 60 dB clipped to 255


def test_a_raster_without_crs_is_a_named_error_unless_assumed(tmp_path, scene):
    path = write_geotiff(str(tmp_path / 'no_crs.tif'), scene['u16'][:, :64, :64], crs=None)
    with pytest.raises(MissingCRSError, match=r'no_crs\.tif: the raster has no coordinate'):
        RasterSource(path)
    src = RasterSource(path, assume_crs='EPSG:32650')
    assert src.crs.to_epsg() == 32650 and src.describe()['crs_assumed'] is True
    assert RasterSource(path, require_crs=False).crs is None  # pixel clicks need no CRS
