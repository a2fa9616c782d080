"""Pieces of the proxy domain-shift benchmark (``tools/benchmark/proxy_shift.py``): a dataset of
point labels without masks and the transforms that train on it. Imported by the benchmark's
configs through ``custom_imports``."""

from .proxy_shift import LoadPointLabels, PointLabelDataset, RandomFlipPoints, RandomNumPointPrompts

__all__ = ['PointLabelDataset', 'LoadPointLabels', 'RandomFlipPoints', 'RandomNumPointPrompts']
