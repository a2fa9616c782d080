"""DOTA-style patches of a large scene, and which patch decodes each click.

The grid is MMRotate's ``tools/data/dota/split`` sliding window (patch ``size``, ``overlap``
pixels shared by neighbours, the last window flush with the scene's edge), so the boxes of a
converted scene line up with a detector's split patches. Each click is decoded in one patch only:
the one where it lies farthest from the patch border (an object up to ~``overlap`` px around its
click is then whole in that patch), so no box is produced twice and nothing needs merging.
"""

import math
from typing import List, Sequence

import numpy as np


def window_starts(length: int, size: int, overlap: int) -> List[int]:
    """Start offsets of the windows along one side (MMRotate's DOTA split rule)."""
    if size <= overlap:
        raise ValueError(f'patch size ({size}) must exceed the overlap ({overlap})')
    if length <= size:
        return [0]
    step = size - overlap
    starts = [step * i for i in range(math.ceil((length - size) / step + 1))]
    if starts[-1] + size > length:
        starts[-1] = length - size
    return starts


def scene_windows(width: int, height: int, size: int = 1024, overlap: int = 200) -> np.ndarray:
    """Windows (K, 4) ``x0, y0, x1, y1`` (pixel-corner, exclusive end) covering the scene, row by
    row; a side shorter than ``size`` gives a window of that side's length."""
    xs, ys = window_starts(width, size, overlap), window_starts(height, size, overlap)
    return np.array(
        [[x, y, min(x + size, width), min(y + size, height)] for y in ys for x in xs],
        dtype=np.int64,
    )


def assign_clicks(clicks: Sequence[Sequence[float]], windows: np.ndarray) -> np.ndarray:
    """Per click (x, y) (pixel index), the window (index) where its pixel centre is farthest
    from the window border; ties go to the first window (row-major)."""
    clicks = np.asarray(clicks, dtype=np.float64).reshape(-1, 2) + 0.5
    if len(clicks) == 0:
        return np.zeros(0, dtype=np.int64)
    x, y = clicks[:, 0:1], clicks[:, 1:2]
    margin = np.minimum.reduce(
        [
            x - windows[None, :, 0],
            windows[None, :, 2] - x,
            y - windows[None, :, 1],
            windows[None, :, 3] - y,
        ]
    )
    return np.argmax(margin, axis=1)


def shift_instances(instances: List[dict], dx: float, dy: float) -> List[dict]:
    """Point-label instances with their points (and background points) moved by (dx, dy)."""
    out = []
    for inst in instances:
        inst = dict(inst)
        inst['points'] = (
            np.asarray(inst['points'], dtype=np.float64).reshape(-1, 2) + (dx, dy)
        ).tolist()
        out.append(inst)
    return out
