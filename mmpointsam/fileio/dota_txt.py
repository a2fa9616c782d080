"""DOTA label files: one txt per image, a line per box ``x1 y1 ... x4 y4 class difficulty``.

Written without header lines (DOTA's own ``imagesource:``/``gsd:`` lines are skipped when read);
an image without objects gets an empty file. MMRotate's ``DOTADataset`` reads
them (rc1 looks for ``<stem>.png`` images next to the txt stems).
"""

import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np

from .atomic import atomic_open

DECIMALS = 3
# DOTA's own label files start with these lines
HEADER_PREFIXES = ('imagesource', 'gsd')


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


class DotaTxtError(ValueError):
    """A DOTA txt with malformed lines; ``faults`` lists (line number, fault) for each."""

    def __init__(self, path: str, faults: List[Tuple[int, str]]) -> None:
        self.path, self.faults = path, faults
        shown = '\n'.join(f'  {path}:{num}: {fault}' for num, fault in faults[:20])
        more = f'\n  ... and {len(faults) - 20} more' if len(faults) > 20 else ''
        if len(faults) == 1:
            super().__init__(f'{path}:{faults[0][0]}: {faults[0][1]}')
        else:
            super().__init__(f'{len(faults)} malformed lines in {path}:\n{shown}{more}')


def _line_fault(parts: List[str]) -> str:
    if len(parts) < 9:
        return f'expected "x1 y1 ... x4 y4 class [difficulty]", got {" ".join(parts)!r}'
    try:
        coords = [float(v) for v in parts[:8]]
    except ValueError:
        return f'coordinates must be numbers, got {" ".join(parts[:8])!r}'
    if not np.isfinite(coords).all():
        return f'coordinates must be finite, got {" ".join(parts[:8])!r}'
    if len(parts) > 9 and not parts[9].lstrip('-').isdigit():
        return f'difficulty must be an integer, got {parts[9]!r}'
    return ''


def load_dota_txt(path: str) -> Tuple[np.ndarray, List[str], np.ndarray]:
    """Read a DOTA txt: corners (K, 4, 2), class names, difficulties (K,).

    The header lines of DOTA's own label files (``imagesource:``, ``gsd:``) and blank lines are
    skipped.

    Raises:
        DotaTxtError: naming the file and every malformed line.
    """
    corners, names, diffs, faults = [], [], [], []
    with open(path, encoding='utf-8-sig') as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or line.startswith(HEADER_PREFIXES):
                continue
            fault = _line_fault(parts)
            if fault:
                faults.append((lineno, fault))
                continue
            corners.append([float(v) for v in parts[:8]])
            names.append(parts[8])
            diffs.append(int(parts[9]) if len(parts) > 9 else 0)
    if faults:
        raise DotaTxtError(osp.abspath(path), faults)
    return (
        np.array(corners, dtype=np.float64).reshape(-1, 4, 2),
        names,
        np.array(diffs, dtype=np.int64),
    )
