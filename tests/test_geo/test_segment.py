"""GeoTIFF + click layer -> GIS layers: polygons taken back to pixels equal the pixel path's
masks from the same tiny random weights; CRS and attributes kept; empty masks keep their
feature; GeoJSON / Shapefile / label COG; a resumed run equals an uninterrupted one; the
command line; point -> rbox on a scene equals the pixel converter."""

import importlib.util
import json
import os.path as osp

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from conftest import REPO
from geo_fixtures import WINDOW, build_scenes, tiny_inferencer
from rasterio import features

from mmpointsam.geo import GeoSegmenter, box_measures, predict_geo_clicks, prediction_layers
from mmpointsam.geo.geometry import apply_affine
from mmpointsam.geo.progress import ChunkProgress
from mmpointsam.structures import rbox_to_corners


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    return build_scenes(str(tmp_path_factory.mktemp('geo_scene')))


@pytest.fixture(scope='module')
def tiny():
    return tiny_inferencer()


def _rasterize(geom, transform, shape):
    if geom is None or geom.is_empty:
        return np.zeros(shape, bool)
    return features.rasterize([(geom, 1)], out_shape=shape, transform=transform).astype(bool)


def _iou(a, b):
    union = (a | b).sum()
    return (a & b).sum() / union if union else 1.0


def _read(path, layer):
    """A layer of a GeoPackage, or the one layer of a GeoJSON / Shapefile."""
    return pyogrio.read_dataframe(path, layer=layer if path.endswith('.gpkg') else None)


def test_layers_match_the_pixel_path(scene, tiny, tmp_path):
    pixel = tiny(scene['img'], scene['pixels'])  # pixel clicks on the PNG-equivalent array
    assert len(pixel.windows) > 1  # the scene spans several windows
    summary = GeoSegmenter(tiny, chunk_windows=1).run(
        scene['rgb8'], scene['gpkg'], str(tmp_path), class_field='class', progress=False
    )
    path = summary['outputs']['layers']['masks']
    assert osp.basename(path) == 'scene_rgb8.gpkg'
    assert set(pyogrio.list_layers(path)[:, 0]) == {'masks', 'rboxes'}
    masks, boxes = _read(path, 'masks'), _read(path, 'rboxes')
    assert masks.crs.to_epsg() == 32650 and boxes.crs.to_epsg() == 32650  # the raster's CRS
    n = len(scene['pixels'])
    assert len(masks) == len(boxes) == n  # one feature per click
    transform, shape = scene['transform'], (1100, 1400)
    full = pixel.full_masks()
    for i in range(n):
        back = _rasterize(masks.geometry[i], transform, shape)
        assert _iou(back, full[i]) >= 0.99, i
        assert (back == full[i]).all()  # exact: polygons follow pixel edges
    np.testing.assert_array_equal(masks['click_id'], np.arange(1, n + 1))
    assert masks['class'].tolist() == scene['classes'] == boxes['class'].tolist()
    np.testing.assert_allclose(masks['score'], pixel.scores, rtol=1e-6)
    np.testing.assert_allclose(masks['area'], full.sum((1, 2)) * 0.25)  # 0.5 m pixels
    assert (masks['empty_mask'] == (~pixel.valid).astype(int)).all()
    for i in np.flatnonzero(pixel.valid):
        corners = np.asarray(boxes.geometry[i].exterior.coords)[:4]
        cols, rows = apply_affine(~transform, corners[:, 0], corners[:, 1])
        np.testing.assert_allclose(
            np.stack([cols, rows], 1), rbox_to_corners(pixel.rboxes[i]), atol=1e-6
        )
        cx, cy, w, h, angle = pixel.rboxes[i]
        assert boxes['length'][i] == pytest.approx(0.5 * w) and boxes['width'][i] == pytest.approx(
            0.5 * h
        )
        # heading: long side (angle from +x, y down) -> clockwise from north
        assert boxes['heading'][i] == pytest.approx((90 + np.degrees(angle)) % 180, abs=1e-6)
    # metadata: the run json, and the GeoPackage's own metadata item
    with open(osp.join(tmp_path, 'scene_rgb8_run.json')) as f:
        run = json.load(f)
    assert run['raster']['crs'] == 'EPSG:32650' and run['raster']['stretch'] is None
    assert run['clicks']['crs'] == 'EPSG:4326' and run['summary']['objects'] == n
    assert 'mmpointsam' in pyogrio.read_info(path, layer='masks')['dataset_metadata']
    # pixel-frame outputs for MMRotate
    with open(summary['outputs']['coco']) as f:
        coco = json.load(f)
    assert len(coco['annotations']) == int(pixel.valid.sum())
    with open(summary['outputs']['dota']) as f:
        assert len(f.readlines()) == int(pixel.valid.sum())
    # the API: PointSAMInferencer(raster, vector layer) gives the same prediction
    pred = tiny(scene['rgb8'], scene['gpkg'], class_field='class')
    np.testing.assert_array_equal(pred.full_masks(), full)
    api_masks, api_boxes = prediction_layers(pred)
    assert api_masks.geometry.geom_equals(masks.geometry).all()


def test_sixteen_bit_cog_matches_the_pixel_path_on_the_stretched_scene(scene, tiny):
    from mmpointsam.geo import RasterSource

    src = RasterSource(scene['cog16'])
    stretched = src.read([0, 0, 1400, 1100])  # small test scene: read whole for the reference
    pixel = tiny(stretched, scene['pixels'])
    pred = predict_geo_clicks(tiny, scene['cog16'], scene['gpkg'], class_field='class')
    np.testing.assert_array_equal(pred.full_masks(), pixel.full_masks())
    stretch = pred.meta['geo']['raster']['stretch']  # what the writers record
    assert stretch['low'] == src.stretch.low and stretch['computed_from'].startswith('overview')


def test_empty_masks_keep_their_feature_with_a_flag(scene, tiny, tmp_path, monkeypatch):
    sam = tiny.model.sam
    original = sam.decode

    def half_empty(*args, **kwargs):
        logits, iou = original(*args, **kwargs)
        logits = logits.clone()
        logits[::2] = -10.0  # every other prompt of a window: an empty mask
        return logits, iou

    monkeypatch.setattr(sam, 'decode', half_empty)
    pixel = tiny(scene['img'], scene['pixels'])
    assert 0 < pixel.valid.sum() < len(pixel.valid)
    for fmt in ('gpkg', 'geojson', 'shp'):
        # one output folder: the later formats resume from the first run's records
        summary = GeoSegmenter(tiny).run(
            scene['rgb8'],
            scene['gpkg'],
            str(tmp_path),
            fmt=fmt,
            class_field='class',
            progress=False,
            label_raster=fmt == 'gpkg',
        )
        assert (summary['skipped'] == len(scene['pixels'])) == (fmt != 'gpkg')
        paths = summary['outputs']['layers']
        masks, boxes = _read(paths['masks'], 'masks'), _read(paths['rboxes'], 'rboxes')
        assert len(masks) == len(boxes) == len(scene['pixels'])
        assert masks.crs.to_epsg() == 32650
        flag = masks['empty_mask'].to_numpy().astype(bool)
        np.testing.assert_array_equal(flag, ~pixel.valid)
        empty = masks.geometry.isna() | masks.geometry.is_empty
        np.testing.assert_array_equal(empty.to_numpy(), flag)
        assert (
            boxes.geometry.isna() | boxes.geometry.is_empty
        ).to_numpy().tolist() == flag.tolist()
        assert (masks['area'][flag] == 0).all() and (masks['area'][~flag] > 0).all()
    # the label raster: a COG aligned with the scene, each object's raster_id where its mask is
    label_path = osp.join(tmp_path, 'scene_rgb8_labels.tif')
    with rasterio.open(label_path) as ds, rasterio.open(scene['rgb8']) as sc:
        assert ds.transform == sc.transform and ds.crs == sc.crs and ds.shape == sc.shape
        assert ds.overviews(1) and ds.profile['tiled']
        label = ds.read(1)
    np.testing.assert_array_equal(label, pixel.label_map())


def test_a_resumed_run_equals_an_uninterrupted_one(scene, tiny, tmp_path, monkeypatch):
    whole = tmp_path / 'whole'
    GeoSegmenter(tiny, chunk_windows=1).run(
        scene['rgb8'],
        scene['gpkg'],
        str(whole),
        class_field='class',
        progress=False,
        label_raster=True,
    )
    part = tmp_path / 'part'
    save = ChunkProgress.save
    calls = []

    def interrupt(self, key, arrays):
        if len(calls) == 2:
            raise KeyboardInterrupt('stopped after 2 chunks')
        calls.append(key)
        save(self, key, arrays)

    monkeypatch.setattr(ChunkProgress, 'save', interrupt)
    with pytest.raises(KeyboardInterrupt):
        GeoSegmenter(tiny, chunk_windows=1).run(
            scene['rgb8'],
            scene['gpkg'],
            str(part),
            class_field='class',
            progress=False,
            label_raster=True,
        )
    assert not osp.exists(part / 'scene_rgb8.gpkg')  # complete or absent
    assert not osp.exists(part / 'scene_rgb8_run.json')
    monkeypatch.setattr(ChunkProgress, 'save', save)
    done = []
    monkeypatch.setattr(tiny, '_run_window', _counting(tiny._run_window, done))
    summary = GeoSegmenter(tiny, chunk_windows=1).run(
        scene['rgb8'],
        scene['gpkg'],
        str(part),
        class_field='class',
        progress=False,
        label_raster=True,
    )
    assert summary['skipped'] > 0 and len(done) == summary['num_windows'] - 2
    for layer in ('masks', 'rboxes'):
        a, b = (
            _read(str(whole / 'scene_rgb8.gpkg'), layer),
            _read(str(part / 'scene_rgb8.gpkg'), layer),
        )
        assert a.drop(columns='geometry').equals(b.drop(columns='geometry'))
        assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()
    with (
        rasterio.open(whole / 'scene_rgb8_labels.tif') as x,
        rasterio.open(part / 'scene_rgb8_labels.tif') as y,
    ):
        np.testing.assert_array_equal(x.read(), y.read())
    # other settings in the same folder are refused, not mixed
    with pytest.raises(ValueError, match='holds a run with other settings'):
        GeoSegmenter(tiny, chunk_windows=2).run(
            scene['rgb8'], scene['gpkg'], str(part), class_field='class', progress=False
        )


def _counting(fn, calls):
    def wrapped(*args, **kwargs):
        calls.append(1)
        return fn(*args, **kwargs)

    return wrapped


def test_windows_are_read_not_the_scene(scene, tiny, monkeypatch):
    from mmpointsam.geo import RasterSource

    src = RasterSource(scene['rgb8'])
    reads = []
    original = src._ds.read

    def record(*args, **kwargs):
        win = kwargs.get('window')
        assert win is not None, 'a read without a window'
        reads.append((win.width, win.height))
        return original(*args, **kwargs)

    monkeypatch.setattr(src._ds, 'read', record)
    pred = tiny(src, scene['pixels'])
    # a GeoTIFF path with pixel clicks opens the same kind of source (no CRS needed for pixels)
    from mmpointsam.apis import open_scene

    assert isinstance(open_scene(scene['rgb8']), RasterSource)
    assert open_scene(scene['rgb8']).shape == (1100, 1400)
    assert len(reads) == len(pred.windows) > 1
    assert all(w <= WINDOW['window_size'] and h <= WINDOW['window_size'] for w, h in reads)


def test_heading_convention():
    from affine import Affine

    north_up = Affine(2.0, 0, 1000.0, 0, -2.0, 5000.0)
    # long side along +x (east): 90 degrees; along y: 0; rotated 30 deg clockwise on screen
    assert box_measures(np.array([50, 50, 20, 4, 0.0]), north_up) == pytest.approx((40, 8, 90))
    assert box_measures(np.array([50, 50, 20, 4, -np.pi / 2]), north_up)[2] == pytest.approx(0)
    # y points down in pixels, so +30 deg (clockwise on screen) is east-south-east: 120
    assert box_measures(np.array([50, 50, 20, 4, np.pi / 6]), north_up)[2] == pytest.approx(120)
    assert box_measures(np.array([50, 50, 20, 4, -np.pi / 6]), north_up)[2] == pytest.approx(60)


def _tool(*parts):
    path = osp.join(REPO, *parts)
    spec = importlib.util.spec_from_file_location(osp.splitext(parts[-1])[0] + '_geo', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_segment_command(scene, tmp_path):
    tool = _tool('tools', 'geo', 'segment.py')
    out = str(tmp_path / 'cli')
    argv = [scene['cog16'], scene['gpkg'], out, '--arch', 'tiny', '--img-size', '256',
            '--sam-checkpoint', 'none', '--device', 'cpu', '--class-field', 'class',
            '--format', 'geojson', '--window-size', '1024', '--window-overlap', '256',
            '--no-progress']  # fmt: skip
    plain = tool.main(argv)
    masks = _read(plain['outputs']['layers']['masks'], 'masks')
    assert len(masks) == len(scene['pixels']) and masks.crs.to_epsg() == 32650
    assert osp.basename(plain['outputs']['layers']['rboxes']) == 'scene_u16_cog_rboxes.geojson'
    with open(osp.join(out, 'scene_u16_cog_run.json')) as f:
        run = json.load(f)
    assert 'RANDOM' in run['weights'] and run['simplify'] is None
    assert run['raster']['stretch']['computed_from'].startswith('overview 1/')
    assert run['raster']['stretch']['percentiles'] == [2.0, 98.0]
    # rerun with --simplify: the model's records are reused, only the layers are rewritten
    simple = tool.main(argv + ['--simplify', '1.0'])
    assert simple['skipped'] == len(scene['pixels'])
    thin = _read(simple['outputs']['layers']['masks'], 'masks')
    for a, b in zip(masks.geometry, thin.geometry):
        if a is None or a.is_empty:
            continue
        assert shapely.get_num_coordinates(b) <= shapely.get_num_coordinates(a)
        assert a.symmetric_difference(b).area <= 0.25 * a.area + 2.0  # 1 m tolerance, 0.5 m px


def test_point2rbox_on_a_scene_equals_the_pixel_converter(scene, tmp_path):
    import cv2

    from mmpointsam.apis import Point2RBoxConverter
    from mmpointsam.apis.inferencer import plain_sam_config
    from mmpointsam.fileio import load_rbox_coco
    from mmpointsam.geo import GeoPoint2RBox

    converter = Point2RBoxConverter.from_config(
        plain_sam_config('tiny', 256), npc_iou_thr=0.1, patch=dict(size=512, overlap=128)
    )
    summary = GeoPoint2RBox(converter).run(
        scene['rgb8'], scene['gpkg'], str(tmp_path / 'geo'), class_field='class', progress=False
    )
    boxes = _read(summary['outputs']['layers']['rboxes'], 'rboxes')
    assert 'masks' not in summary['outputs']['layers'] and boxes.crs.to_epsg() == 32650
    # the pixel path: the same scene as a PNG and the clicks as a point-label json
    cv2.imwrite(str(tmp_path / 'scene.png'), scene['img'])
    names = list(dict.fromkeys(scene['classes']))
    points = dict(
        images=[dict(id=1, file_name='scene.png', width=1400, height=1100)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(names)],
        annotations=[
            dict(id=i + 1, image_id=1, category_id=names.index(c) + 1, points=[p.tolist()])
            for i, (p, c) in enumerate(zip(scene['pixels'], scene['classes']))
        ],
    )
    with open(tmp_path / 'points.json', 'w') as f:
        json.dump(points, f)
    converter.convert(
        str(tmp_path / 'points.json'), str(tmp_path), str(tmp_path / 'px'), progress=False
    )
    ref = load_rbox_coco(str(tmp_path / 'px' / 'labels.json'))['boxes'][1]
    assert len(ref['ids']) == int((boxes['empty_mask'] == 0).sum())
    transform = scene['transform']
    for ann_id, rbox in zip(ref['ids'], ref['rboxes']):
        row = boxes[boxes['click_id'] == ann_id].iloc[0]
        corners = np.asarray(row.geometry.exterior.coords)[:4]
        cols, rows = apply_affine(~transform, corners[:, 0], corners[:, 1])
        got = np.stack([cols, rows], 1)
        want = rbox_to_corners(rbox)
        # same rectangle (corner order may start elsewhere)
        assert min(np.abs(np.roll(got, k, 0) - want).max() for k in range(4)) < 1e-2
    # the command line's --rboxes-only is this wrapper (same seed: same random weights)
    tool = _tool('tools', 'geo', 'segment.py')
    cli = tool.main(
        [scene['rgb8'], scene['gpkg'], str(tmp_path / 'cli'), '--rboxes-only', '--arch', 'tiny',
         '--img-size', '256', '--sam-checkpoint', 'none', '--device', 'cpu', '--class-field',
         'class', '--window-size', '512', '--window-overlap', '128', '--no-progress']
    )  # fmt: skip
    again = _read(cli['outputs']['layers']['rboxes'], 'rboxes')
    assert again.drop(columns='geometry').equals(boxes.drop(columns='geometry'))
    assert again.geometry.geom_equals_exact(boxes.geometry, 1e-6).all()
