"""Clicks from vector layers / CSV in any CRS located on a raster, and the named error of every
fault: outside the raster, on nodata, a layer or raster without CRS (assume_crs overrides)."""

import numpy as np
import pyogrio
import pytest
from geo_fixtures import BORDER, build_scenes, tiny_inferencer

from mmpointsam.geo import (
    ClickAttributeError,
    ClickOnNodataError,
    ClickOutsideRasterError,
    GeoInputError,
    MissingCRSError,
    RasterSource,
    read_clicks,
)
from mmpointsam.geo.geometry import apply_affine
from mmpointsam.testing.geo_scene import (
    UTM_CRS,
    pixel_centres_to_crs,
    write_click_layer,
    write_geotiff,
)


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    return build_scenes(str(tmp_path_factory.mktemp('geo_scene')))


@pytest.fixture(scope='module')
def tiny():
    return tiny_inferencer()


def test_clicks_in_wgs84_land_on_their_pixels(scene):
    src = RasterSource(scene['rgb8'])
    clicks = read_clicks(scene['gpkg'], src, class_field='class')
    np.testing.assert_array_equal(clicks.pixels, scene['pixels'])
    assert clicks.layer_crs == 'EPSG:4326' and clicks.feature_ids.tolist() == list(
        range(1, len(scene['pixels']) + 1)
    )  # GeoPackage fids
    assert [o.class_name for o in clicks.objects] == scene['classes']
    prompts, labels = clicks.prompts()
    np.testing.assert_array_equal(prompts[:, 0], scene['pixels'])
    assert (labels == 1).all()
    # the same clicks as a CSV of lon,lat, and of UTM x,y with --crs
    csv = f'{scene["root"]}/clicks_lonlat.csv'
    with open(csv, 'w') as f:
        f.write('id,lon,lat,class\n')
        for i, ((lon, lat), c) in enumerate(zip(scene['lonlat'], scene['classes'])):
            f.write(f'{i + 10},{float(lon)!r},{float(lat)!r},{c}\n')
    from_csv = read_clicks(csv, src, class_field='class')
    np.testing.assert_array_equal(from_csv.pixels, scene['pixels'])
    assert from_csv.feature_ids[0] == 10
    utm = pixel_centres_to_crs(scene['pixels'], scene['transform'], UTM_CRS, UTM_CRS)
    csv_xy = f'{scene["root"]}/clicks_xy.csv'
    with open(csv_xy, 'w') as f:
        f.write('x,y\n' + ''.join(f'{float(x)!r},{float(y)!r}\n' for x, y in utm))
    np.testing.assert_array_equal(
        read_clicks(csv_xy, src, crs='EPSG:32650').pixels, scene['pixels']
    )
    with pytest.raises(
        MissingCRSError, match=r'clicks_xy\.csv: the CSV has x,y columns but no CRS'
    ):
        read_clicks(csv_xy, src)


def test_groups_and_negative_clicks_make_the_prompts(scene, tmp_path):
    src = RasterSource(scene['rgb8'])
    px = np.array([[100, 100], [110, 104], [130, 100], [600, 300], [900, 900]])
    xy = pixel_centres_to_crs(px, scene['transform'], UTM_CRS, 'EPSG:3857')
    path = write_click_layer(
        str(tmp_path / 'groups.geojson'),
        xy,
        'EPSG:3857',
        dict(
            obj=['a', 'a', 'a', None, None], lab=[1, 1, 0, 1, 0], cls=['ship'] * 3 + ['tank', None]
        ),
        driver='GeoJSON',
    )
    clicks = read_clicks(path, src, class_field='cls', group_field='obj', label_field='lab')
    assert [(o.click_id, o.class_name, o.group) for o in clicks.objects] == [
        (0, 'ship', 'a'),
        (3, 'tank', None),
    ]  # GeoJSON fids count from 0
    prompts, labels = clicks.prompts()
    # object a: its two positives, its own negative, then the background click (900, 900)
    np.testing.assert_array_equal(prompts[0], [[100, 100], [110, 104], [130, 100], [900, 900]])
    np.testing.assert_array_equal(labels[0], [1, 1, 0, 0])
    np.testing.assert_array_equal(prompts[1, :2], [[600, 300], [900, 900]])
    np.testing.assert_array_equal(labels[1], [1, 0, -1, -1])
    bad = write_click_layer(
        str(tmp_path / 'no_pos.gpkg'), xy[:2], 'EPSG:3857', dict(obj=['b', 'b'], lab=[0, 0])
    )
    with pytest.raises(ClickAttributeError, match=r"no_pos\.gpkg: group 'b' has no positive click"):
        read_clicks(bad, src, group_field='obj', label_field='lab')
    with pytest.raises(ClickAttributeError, match=r"no attribute 'kind' for the class"):
        read_clicks(path, src, class_field='kind')
    with pytest.raises(ClickAttributeError, match=r"feature 1 has lab='yes'"):
        odd = write_click_layer(str(tmp_path / 'odd.gpkg'), xy[:1], 'EPSG:3857', dict(lab=['yes']))
        read_clicks(odd, src, label_field='lab')


def test_every_fault_is_a_named_error(scene, tmp_path, tiny):
    src = RasterSource(scene['u16_path'])  # 16-bit, nodata border
    inside = scene['pixels'][:2]
    # outside: one click 10 m west of the scene
    west = apply_affine(scene['transform'], 0, 500)
    lonlat = pixel_centres_to_crs(inside, scene['transform'], UTM_CRS, 'EPSG:4326')
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(UTM_CRS, 'EPSG:4326', always_xy=True).transform(
        west[0] - 10, west[1]
    )
    out = write_click_layer(
        str(tmp_path / 'outside.gpkg'), np.vstack([lonlat, [[lon, lat]]]), 'EPSG:4326'
    )
    with pytest.raises(ClickOutsideRasterError) as err:
        read_clicks(out, src)
    msg = str(err.value)
    assert 'outside.gpkg: 1 click(s) outside the raster' in msg and 'scene_u16.tif' in msg
    assert f'feature 3 at ({lon:.10g}, {lat:.10g}) in EPSG:4326' in msg
    # on nodata: a click in the border
    border = pixel_centres_to_crs([[BORDER // 2, 600]], scene['transform'], UTM_CRS, 'EPSG:4326')
    nod = write_click_layer(str(tmp_path / 'nodata.gpkg'), np.vstack([lonlat, border]), 'EPSG:4326')
    with pytest.raises(
        ClickOnNodataError,
        match=r'nodata\.gpkg: 1 click\(s\) on nodata pixels of .*'
        r'scene_u16\.tif: feature 3 at .* \(pixels \(col, row\) \[\[20, 600\]\]\)',
    ):
        read_clicks(nod, src)
    # a layer without CRS, then with --assume-crs
    utm = pixel_centres_to_crs(inside, scene['transform'], UTM_CRS, UTM_CRS)
    bare = write_click_layer(str(tmp_path / 'bare.gpkg'), utm, None)
    assert pyogrio.read_info(bare)['crs'] is None
    with pytest.raises(MissingCRSError, match=r'bare\.gpkg: the click layer has no coordinate'):
        read_clicks(bare, src)
    np.testing.assert_array_equal(read_clicks(bare, src, assume_crs='EPSG:32650').pixels, inside)
    # a raster without CRS, then with --assume-crs (the layer keeps its own CRS)
    no_crs = write_geotiff(str(tmp_path / 'no_crs.tif'), scene['u16'], crs=None, nodata=0)
    with pytest.raises(MissingCRSError, match=r'no_crs\.tif: the raster has no coordinate'):
        RasterSource(no_crs)
    assumed = RasterSource(no_crs, assume_crs='EPSG:32650')
    np.testing.assert_array_equal(read_clicks(scene['gpkg'], assumed).pixels, scene['pixels'])
    # --crs that contradicts the layer's own CRS, and a non-point geometry
    with pytest.raises(GeoInputError, match=r'in EPSG:4326 but --crs says EPSG:32650'):
        read_clicks(scene['gpkg'], src, crs='EPSG:32650')
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    frame = gpd.GeoDataFrame(geometry=[Point(*utm[0]), LineString(utm)], crs=UTM_CRS)
    with pytest.raises(GeoInputError, match=r'<GeoDataFrame>: feature 1 has a LineString'):
        read_clicks(frame, src)
    named = gpd.GeoDataFrame(geometry=[Point(*p) for p in utm], crs=UTM_CRS, index=['a', 'b'])
    assert read_clicks(named, src).feature_ids.tolist() == [0, 1]  # row numbers
    # through the inferencer's API too
    with pytest.raises(ClickOnNodataError, match='nodata.gpkg'):
        tiny(scene['u16_path'], nod)
