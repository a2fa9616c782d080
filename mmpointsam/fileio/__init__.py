"""Label files: atomic writes, rotated boxes as COCO json and DOTA txt, the resumable writer."""

from .atomic import atomic_dump_json, atomic_open
from .coco_json import load_coco_json
from .coco_subset import subset_coco_json
from .dota_txt import DotaTxtError, dump_dota_txt, load_dota_txt
from .rbox_coco import coco_ann_to_rbox, load_rbox_coco, predictions_to_coco_anns, rbox_to_coco_ann
from .rbox_label_writer import RBoxLabelWriter
from .run_settings import check_run_settings
from .work_claims import WorkClaims

__all__ = [
    'atomic_dump_json',
    'atomic_open',
    'check_run_settings',
    'DotaTxtError',
    'dump_dota_txt',
    'load_dota_txt',
    'coco_ann_to_rbox',
    'load_coco_json',
    'load_rbox_coco',
    'predictions_to_coco_anns',
    'rbox_to_coco_ann',
    'RBoxLabelWriter',
    'subset_coco_json',
    'WorkClaims',
]
