"""Datasets (and, via ``transforms``, data transforms) of mmpointsam."""

from .coco_instance import CocoInstanceDataset, InvalidAnnotationError
from .hrsid import HRSIDDataset
from .nwpu_vhr10 import NWPUVHR10Dataset
from .point_label_dataset import PointLabelDataset
from .point_labels import load_point_labels, sample_point_labels
from .transforms import *  # noqa: F401,F403
from .whu_building import WHUBuildingDataset

__all__ = [
    'CocoInstanceDataset',
    'InvalidAnnotationError',
    'NWPUVHR10Dataset',
    'WHUBuildingDataset',
    'HRSIDDataset',
    'PointLabelDataset',
    'load_point_labels',
    'sample_point_labels',
]
