"""Coordinate reference systems given by users (``EPSG:32650``, ``4326``, WKT, PROJ strings)."""

from typing import Optional, Union

from pyproj import CRS


def parse_crs(value: Union[str, int, CRS, None], what: str = 'crs') -> Optional[CRS]:
    """A ``pyproj.CRS`` from what a user typed (or an object with ``to_wkt``); None stays None."""
    if value is None:
        return None
    if isinstance(value, CRS):
        return value
    if hasattr(value, 'to_wkt'):  # rasterio.crs.CRS
        return CRS.from_wkt(value.to_wkt())
    text = str(value).strip()
    if text.isdigit():
        text = f'EPSG:{text}'
    try:
        return CRS.from_user_input(text)
    except Exception as e:  # pyproj raises CRSError with PROJ's reason
        raise ValueError(f'{what}: {value!r} is not a coordinate reference system ({e})') from None


def crs_name(crs: Optional[CRS]) -> str:
    """``EPSG:32650`` when the CRS has an EPSG code, else its name."""
    if crs is None:
        return 'no CRS'
    epsg = crs.to_epsg()
    return f'EPSG:{epsg}' if epsg else crs.name


def linear_unit(crs: Optional[CRS]) -> str:
    """The unit of the CRS's first axis (``metre``, ``degree``, ``US survey foot``...)."""
    if crs is None or not crs.axis_info:
        return 'pixel'
    return crs.axis_info[0].unit_name
