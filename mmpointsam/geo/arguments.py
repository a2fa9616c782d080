"""Command-line options of the geo tools for reading a scene and its click layer."""


def add_scene_arguments(parser) -> None:
    """Add the raster (``--bands`` ... ``--assume-crs``) and click-layer (``--class-field`` ...
    ``--layer``) options of :data:`~.scene_segmenter.RASTER_OPTIONS` / ``CLICK_OPTIONS``."""
    raster = parser.add_argument_group('raster')
    raster.add_argument('--bands', type=int, nargs='+', help='1 or 3 band numbers, e.g. 3 2 1')
    raster.add_argument('--stretch', choices=('auto', 'percentile', 'none'), default='auto')
    raster.add_argument('--percentiles', type=float, nargs=2, default=(2.0, 98.0))
    raster.add_argument('--sar', choices=('amplitude', 'db'), help='SAR input (stretched in dB)')
    raster.add_argument(
        '--assume-crs', help='CRS of a raster or click layer that has none (an explicit override)'
    )
    clicks = parser.add_argument_group('clicks')
    clicks.add_argument('--class-field', help='attribute holding the class')
    clicks.add_argument('--group-field', help='attribute: clicks sharing it are one object')
    clicks.add_argument('--label-field', help='attribute: 1 positive, 0 negative click')
    clicks.add_argument('--crs', help="CRS of a CSV's coordinates (lon,lat default to EPSG:4326)")
    clicks.add_argument('--layer', help='layer of a multi-layer click file')


def scene_options(args) -> dict:
    """The options of :func:`add_scene_arguments` in parsed ``args``, as keyword arguments of
    the geo runs (``GeoSegmenter.run``, ``scene_to_point_labels``, ...)."""
    return dict(
        bands=args.bands,
        stretch=args.stretch,
        percentiles=tuple(args.percentiles),
        sar=args.sar,
        assume_crs=args.assume_crs,
        class_field=args.class_field,
        group_field=args.group_field,
        label_field=args.label_field,
        crs=args.crs,
        layer=args.layer,
    )
