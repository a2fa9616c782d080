"""A COCO json restricted to some of its images (for quick runs on a few images)."""

import json
from typing import Optional

import numpy as np

from .atomic import atomic_dump_json


def subset_coco_json(src: str, dst: str, num_images: int, seed: Optional[int] = None) -> dict:
    """Write to ``dst`` the first ``num_images`` images of ``src`` that have annotations (a seeded
    random choice of them with ``seed``), with their annotations; returns the written json."""
    with open(src) as f:
        data = json.load(f)
    annotated = {a['image_id'] for a in data['annotations']}
    images = [img for img in data['images'] if img['id'] in annotated]
    if num_images > len(images):
        raise ValueError(f'{src} has {len(images)} annotated images, {num_images} asked for')
    if seed is not None:
        keep = np.sort(np.random.default_rng(seed).choice(len(images), num_images, replace=False))
        images = [images[i] for i in keep]
    else:
        images = images[:num_images]
    ids = {img['id'] for img in images}
    data = dict(
        data, images=images, annotations=[a for a in data['annotations'] if a['image_id'] in ids]
    )
    atomic_dump_json(data, dst)
    return data
