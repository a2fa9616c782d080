"""Check a tool's input files before any model is built or any output written.

Every tool calls this first: annotation files (point-label json, COCO instance json, click CSV,
DOTA labelTxt folders), the image files they name (header and end only) and checkpoint files
(readable, and of the layout the tool needs). All faults are collected and reported at once, each
with its file, record and value, so that a user fixes a dataset in one round instead of one
30-second model build per fault.

Modules: :mod:`.report` (the fault report), :mod:`.values`, :mod:`.images` (header and end, not a
full decode), :mod:`.annotations`, :mod:`.checkpoints` (zip directory and memory-mapped keys, not
the tensors) and :mod:`.configs` (every input of a config); their names are re-exported here.
"""

from .annotations import (
    check_coco_json,
    check_dota_dir,
    check_point_json,
    check_rbox_json,
    coco_schema_faults,
)
from .checkpoints import CHECKPOINT_ROLES, check_checkpoint
from .configs import (
    check_config_inputs,
    check_dataset,
    check_point2rbox_inputs,
    dataset_inputs,
    resume_checkpoint,
)
from .images import (
    END_MARKERS,
    IMAGE_TAIL,
    IMG_EXTS,
    check_images,
    find_image,
    image_fault,
    inspect_image,
)
from .report import MAX_FAULTS, FaultReport, InputError, finish
from .values import duplicates, is_int, is_number, is_size

__all__ = [
    'MAX_FAULTS',
    'FaultReport',
    'InputError',
    'finish',
    'duplicates',
    'is_int',
    'is_number',
    'is_size',
    'END_MARKERS',
    'IMAGE_TAIL',
    'IMG_EXTS',
    'check_images',
    'find_image',
    'image_fault',
    'inspect_image',
    'check_coco_json',
    'check_dota_dir',
    'check_point_json',
    'check_rbox_json',
    'coco_schema_faults',
    'CHECKPOINT_ROLES',
    'check_checkpoint',
    'check_config_inputs',
    'check_dataset',
    'check_point2rbox_inputs',
    'dataset_inputs',
    'resume_checkpoint',
]
