"""DOTA label files: one txt per image, a line per box ``x1 y1 ... x4 y4 class difficulty``.

No header lines; an image without objects gets an empty file. MMRotate's ``DOTADataset`` reads
them (rc1 looks for ``<stem>.png`` images next to the txt stems).
"""

import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np

from .atomic import atomic_open

DECIMALS = 3


def check_class_name(name: str) -> str:
    """DOTA lines are split on whitespace: a class name must be one non-empty token."""
    if not name or len(name.split()) != 1:
        raise ValueError(f'class name {name!r} cannot be written to a DOTA txt (whitespace)')
    return name


def dota_lines(
    corners: np.ndarray, class_names: Sequence[str], difficulties: Sequence[int] = None
) -> List[str]:
    """Text lines (with newlines) for corners (K, 4, 2) and their class names."""
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 8)
    if len(class_names) != len(corners):
        raise ValueError(f'{len(corners)} boxes but {len(class_names)} class names')
    if difficulties is None:
        difficulties = [0] * len(corners)
    # + 0.0 turns -0.0 into 0.0
    corners = np.round(corners, DECIMALS) + 0.0
    return [
        ' '.join(f'{v:.{DECIMALS}f}' for v in pts) + f' {check_class_name(name)} {int(diff)}\n'
        for pts, name, diff in zip(corners, class_names, difficulties)
    ]


def dump_dota_txt(
    path: str, corners: np.ndarray, class_names: Sequence[str], difficulties: Sequence[int] = None
) -> None:
    """Write one image's DOTA txt atomically (an empty file for no boxes)."""
    lines = dota_lines(corners, class_names, difficulties)
    with atomic_open(path, 'w') as f:
        f.writelines(lines)


def load_dota_txt(path: str) -> Tuple[np.ndarray, List[str], np.ndarray]:
    """Read a DOTA txt: corners (K, 4, 2), class names, difficulties (K,)."""
    corners, names, diffs = [], [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 9:
                raise ValueError(
                    f'{osp.abspath(path)}:{lineno}: expected "x1 y1 ... x4 y4 class '
                    f'[difficulty]", got {line.strip()!r}'
                )
            corners.append([float(v) for v in parts[:8]])
            names.append(parts[8])
            diffs.append(int(parts[9]) if len(parts) > 9 else 0)
    return (
        np.array(corners, dtype=np.float64).reshape(-1, 4, 2),
        names,
        np.array(diffs, dtype=np.int64),
    )
