"""WHU building: single-class aerial building instance segmentation (COCO json)."""

from mmpointsam.registry import DATASETS

from .coco_instance import CocoInstanceDataset


@DATASETS.register_module()
class WHUBuildingDataset(CocoInstanceDataset):
    """WHU aerial building instances in COCO format; one class, ``building``."""

    METAINFO = {'classes': ('building',), 'palette': [(220, 20, 60)]}
