"""Rotated-box structures: le90 geometry and exact rotated IoU."""

from .rbox import (
    RBOX_METHODS,
    corners_to_rbox,
    mask_to_rbox,
    masks_to_rboxes,
    norm_le90,
    points_to_rbox,
    rbox_to_corners,
    rbox_to_hbox,
    rbox_to_mask,
)
from .rbox_iou import rbox_iou

__all__ = [
    'RBOX_METHODS',
    'corners_to_rbox',
    'mask_to_rbox',
    'masks_to_rboxes',
    'norm_le90',
    'points_to_rbox',
    'rbox_to_corners',
    'rbox_to_hbox',
    'rbox_to_mask',
    'rbox_iou',
]
