"""NWPU VHR-10: 10-class optical remote sensing instance segmentation (COCO json, polygons)."""

from mmpointsam.registry import DATASETS

from .coco_instance import CocoInstanceDataset


@DATASETS.register_module()
class NWPUVHR10Dataset(CocoInstanceDataset):
    """NWPU VHR-10 instance masks in COCO format (category ids 1..10 in the order below).
    Configs with a generic dataset type read configs/_base_/datasets/nwpu_vhr10_classes.py."""

    METAINFO = {
        'classes': (
            'airplane',
            'ship',
            'storage_tank',
            'baseball_diamond',
            'tennis_court',
            'basketball_court',
            'ground_track_field',
            'harbor',
            'bridge',
            'vehicle',
        ),
        'palette': [
            (220, 20, 60),
            (0, 0, 230),
            (255, 179, 240),
            (0, 125, 92),
            (250, 170, 30),
            (119, 11, 32),
            (0, 226, 252),
            (106, 0, 228),
            (165, 42, 42),
            (0, 182, 199),
        ],
    }
