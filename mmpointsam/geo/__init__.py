"""GeoTIFF scenes in, GIS layers out: georeferenced rasters read by windows, clicks from vector
layers in any CRS, masks and rotated boxes written as GeoPackage / GeoJSON / Shapefile layers in
the raster's CRS, chips for training from a scene and a point layer.

Needs rasterio, pyogrio, geopandas and pyproj (pinned in requirements/runtime.txt).
"""

from .chips import ChipIndex, scene_to_point_labels
from .clicks import GeoClicks, GeoObject, read_clicks
from .errors import (
    ClickAttributeError,
    ClickOnNodataError,
    ClickOutsideRasterError,
    GeoInputError,
    MissingCRSError,
)
from .geometry import box_measures, mask_to_multipolygon, rbox_to_map_polygon
from .point2rbox import GeoPoint2RBox
from .raster_source import RasterSource
from .scene_segmenter import GeoSegmenter, predict_geo_clicks, prediction_layers
from .stretch import PercentileStretch

__all__ = [
    'ChipIndex',
    'ClickAttributeError',
    'ClickOnNodataError',
    'ClickOutsideRasterError',
    'GeoClicks',
    'GeoInputError',
    'GeoObject',
    'GeoPoint2RBox',
    'GeoSegmenter',
    'MissingCRSError',
    'PercentileStretch',
    'RasterSource',
    'box_measures',
    'mask_to_multipolygon',
    'predict_geo_clicks',
    'prediction_layers',
    'rbox_to_map_polygon',
    'read_clicks',
    'scene_to_point_labels',
]
