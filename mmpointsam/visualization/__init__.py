"""Drawing of prompts, masks and rotated boxes (``SAMVisualizer``) and its helpers."""

from .mask_overlay import instance_label_map, overlay_instance_masks
from .palette import instance_colors
from .rotated_boxes import rbox_to_corners
from .sam_visualizer import SAMVisualizer, paired_iou, to_bool_masks

__all__ = [
    'SAMVisualizer',
    'instance_colors',
    'instance_label_map',
    'overlay_instance_masks',
    'paired_iou',
    'rbox_to_corners',
    'to_bool_masks',
]
