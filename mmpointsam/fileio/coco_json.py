"""Reading a COCO-style json with a clear error for a missing file or a file of another kind."""

import json
import os.path as osp

COCO_KEYS = ('images', 'annotations', 'categories')


def load_coco_json(path: str, kind: str = 'COCO json') -> dict:
    """The dict of the COCO json ``path``; FileNotFoundError naming ``kind`` if it is absent,
    ValueError if it lacks ``images``, ``annotations`` or ``categories``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{kind} not found: {path}')
    with open(path) as f:
        data = json.load(f)
    for key in COCO_KEYS:
        if key not in data:
            raise ValueError(f'{path}: not a COCO json (no "{key}")')
    return data
