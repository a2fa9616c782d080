"""HRSID: single-class SAR ship instance segmentation (COCO json)."""
from mmpointsam.registry import DATASETS
from .coco_instance import CocoInstanceDataset


@DATASETS.register_module()
class HRSIDDataset(CocoInstanceDataset):
    """HRSID SAR ship instances in COCO format; one class, ``ship``."""

    METAINFO = {'classes': ('ship', ), 'palette': [(0, 0, 230)]}
