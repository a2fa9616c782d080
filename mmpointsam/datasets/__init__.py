"""Datasets (and, via ``transforms``, data transforms) of mmpointsam."""
from .transforms import *  # noqa: F401,F403
from .coco_instance import CocoInstanceDataset, InvalidAnnotationError
from .hrsid import HRSIDDataset
from .nwpu_vhr10 import NWPUVHR10Dataset
from .whu_building import WHUBuildingDataset

__all__ = [
    'CocoInstanceDataset', 'InvalidAnnotationError', 'NWPUVHR10Dataset', 'WHUBuildingDataset',
    'HRSIDDataset'
]
