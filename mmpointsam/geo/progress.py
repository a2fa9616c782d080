"""Resumable runs: one record per finished chunk of work, written atomically, and the settings
that produced them (a rerun with other settings is refused instead of mixing results)."""

import json
import os
import os.path as osp
import shutil
from typing import Dict

import numpy as np

from mmpointsam.fileio import atomic_open, check_run_settings


class ChunkProgress:
    """Records of finished chunks under ``folder`` (``settings.json`` + ``chunk_<k>.npz``)."""

    def __init__(self, folder: str, settings: dict, resume: bool = True) -> None:
        self.folder = folder
        self.settings = json.loads(json.dumps(settings))  # as it reads back from json
        if not resume:
            self.clear()
        check_run_settings(self.settings, osp.join(folder, 'settings.json'), folder)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, key: int) -> str:
        return osp.join(self.folder, f'chunk_{int(key)}.npz')

    def done(self, key: int) -> bool:
        return osp.isfile(self._path(key))

    def save(self, key: int, arrays: Dict[str, np.ndarray]) -> None:
        with atomic_open(self._path(key), 'wb') as f:
            np.savez(f, **arrays)

    def load(self, key: int) -> Dict[str, np.ndarray]:
        with np.load(self._path(key), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


def pack_masks(masks) -> Dict[str, np.ndarray]:
    """Cropped bool masks -> shapes (N, 2) and their bits, packed and concatenated."""
    shapes = np.array([m.shape for m in masks], dtype=np.int64).reshape(-1, 2)
    flat = np.concatenate([m.reshape(-1) for m in masks]) if masks else np.zeros(0, bool)
    return dict(mask_shapes=shapes, mask_bits=np.packbits(flat))


def unpack_masks(shapes: np.ndarray, bits: np.ndarray):
    sizes = shapes.prod(axis=1)
    flat = np.unpackbits(bits, count=int(sizes.sum())).astype(bool)
    out, start = [], 0
    for (h, w), n in zip(shapes, sizes):
        out.append(flat[start : start + n].reshape(int(h), int(w)))
        start += n
    return out


def remove_if_exists(path: str) -> None:
    if osp.exists(path):
        os.remove(path)
