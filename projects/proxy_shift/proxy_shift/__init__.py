"""The proxy domain-shift benchmark's code (imported by its configs through ``custom_imports``)."""

from .transforms import RandomNumPointPrompts

__all__ = ['RandomNumPointPrompts']
