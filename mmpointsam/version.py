"""The version of mmpointsam."""

__version__ = '0.1.0'
