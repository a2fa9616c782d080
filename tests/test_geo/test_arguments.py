import argparse

from mmpointsam.geo.arguments import add_scene_arguments, scene_options
from mmpointsam.geo.scene_segmenter import CLICK_OPTIONS, RASTER_OPTIONS


def _parse(*argv):
    parser = argparse.ArgumentParser()
    add_scene_arguments(parser)
    return scene_options(parser.parse_args(list(argv)))


def test_defaults_are_the_readers_options():
    options = _parse()
    assert set(options) <= set(RASTER_OPTIONS) | set(CLICK_OPTIONS)
    assert options['stretch'] == 'auto' and options['percentiles'] == (2.0, 98.0)
    assert options['bands'] is None and options['class_field'] is None


def test_given_options_reach_the_keywords():
    options = _parse(
        '--bands', '3', '2', '1', '--percentiles', '1', '99', '--sar', 'db',
        '--assume-crs', 'EPSG:4326', '--class-field', 'cls', '--layer', 'pts', '--crs', 'EPSG:3857',
    )  # fmt: skip
    assert options['bands'] == [3, 2, 1] and options['percentiles'] == (1.0, 99.0)
    assert options['sar'] == 'db' and options['assume_crs'] == 'EPSG:4326'
    assert (options['class_field'], options['layer'], options['crs']) == ('cls', 'pts', 'EPSG:3857')
