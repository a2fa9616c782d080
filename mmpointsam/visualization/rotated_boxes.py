"""Corners of rotated boxes: le90 (cx, cy, w, h, angle in radians) or 8-value quadrilaterals."""

import numpy as np
import torch


def rbox_to_corners(boxes) -> np.ndarray:
    """Corners (N, 4, 2) xy of rotated boxes given as (N, 5) cx, cy, w, h, angle (radians) or
    (N, 8) x1, y1, ..., x4, y4; also accepts MMRotate box objects (``.tensor``).

    The corner order follows MMRotate's ``rbox2qbox``: c + v1 + v2, c + v1 - v2, c - v1 - v2,
    c - v1 + v2 with v1 = w/2 (cos, sin) and v2 = h/2 (-sin, cos).
    """
    if hasattr(boxes, 'tensor'):
        boxes = boxes.tensor
    if isinstance(boxes, torch.Tensor):
        boxes = boxes.detach().cpu().numpy()
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim == 1 and boxes.size in (0, 5, 8):
        boxes = boxes.reshape(-1, boxes.size or 5)
    if boxes.ndim != 2 or boxes.shape[1] not in (5, 8):
        raise ValueError(
            'rotated boxes must be (N, 5) cx, cy, w, h, angle or (N, 8) corners, '
            f'got shape {tuple(boxes.shape)}'
        )
    if boxes.shape[1] == 8:
        return boxes.reshape(-1, 4, 2)
    ctr, w, h, theta = boxes[:, :2], boxes[:, 2:3], boxes[:, 3:4], boxes[:, 4:5]
    cos, sin = np.cos(theta), np.sin(theta)
    v1 = np.concatenate([w / 2 * cos, w / 2 * sin], axis=1)
    v2 = np.concatenate([-h / 2 * sin, h / 2 * cos], axis=1)
    return np.stack([ctr + v1 + v2, ctr + v1 - v2, ctr - v1 - v2, ctr - v1 + v2], axis=1)
