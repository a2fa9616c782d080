"""Named errors of geospatial input: each message names the file, the feature and where it is.

They subclass ``ValueError`` so that callers catching bad input keep working, and a user (or a
test) can tell the faults apart by type.
"""


class GeoInputError(ValueError):
    """A raster or click layer that cannot be used as it is."""


class MissingCRSError(GeoInputError):
    """A raster or a click layer without a coordinate reference system (``assume_crs`` sets
    one explicitly)."""


class ClickOutsideRasterError(GeoInputError):
    """A click that does not fall on the raster."""


class ClickOnNodataError(GeoInputError):
    """A click on a nodata (masked) pixel of the raster."""


class ClickAttributeError(GeoInputError):
    """A click layer whose class, group or label attribute is missing or invalid."""


def describe_features(ids, coords, limit: int = 3) -> str:
    """``feature 7 at (x, y), feature 9 at (x, y) and 4 more`` for error messages."""
    parts = [
        f'feature {fid} at ({float(x):.10g}, {float(y):.10g})'
        for fid, (x, y) in list(zip(ids, coords))[:limit]
    ]
    more = len(ids) - limit
    return ', '.join(parts) + (f' and {more} more' if more > 0 else '')
