"""The settings file of a resumable run: a rerun with other settings is refused instead of mixing
its results with the old ones."""

import json
import os.path as osp

from .atomic import atomic_dump_json


def check_run_settings(settings: dict, path: str, out_dir: str) -> None:
    """Raise ValueError if the json ``path`` records a run of ``out_dir`` with other
    ``settings`` (naming the differing keys); write ``settings`` there if it is absent."""
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old != settings:
            diff = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
            raise ValueError(
                f'{out_dir} holds a run with other settings (differing: {diff}; see {path}): '
                'use another output folder, or start afresh (--no-resume)'
            )
    else:
        atomic_dump_json(settings, path, indent=1)
