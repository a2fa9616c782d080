"""Helpers for tests and benchmarks: synthetic large scenes built from real images (and, in
:mod:`.geo_scene`, georeferenced GeoTIFFs and click layers; it needs the geo packages)."""

from .mosaic import build_mosaic

__all__ = ['build_mosaic']
