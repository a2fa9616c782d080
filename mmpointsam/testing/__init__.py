"""Helpers for tests and benchmarks: synthetic large scenes built from real images."""

from .mosaic import build_mosaic

__all__ = ['build_mosaic']
