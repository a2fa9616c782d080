"""Which process converts which image: a deterministic longest-processing-time (LPT) plan.

A conversion's cost grows with an image's clicks (prompt decoding, NPC, mask -> rbox) and its
encoder passes (one per image, one per patch of a large scene), not with its index, so sharing
images by index leaves the ranks that drew the dense scenes running long after the others. LPT
takes the images heaviest first and gives each to the rank with the least work so far (ties:
the lowest rank; equal weights: the smaller image id), which every rank computes alike from the
same list of pending images: no communication, and the plan is the same on every rank.
"""

import heapq
from typing import Dict, List, Optional, Sequence

import numpy as np

from .scene_patches import assign_clicks, scene_windows


def first_click(inst: dict) -> np.ndarray:
    """The click (x, y) of a point-label instance: its first positive point, else its first."""
    pts = np.asarray(inst['points'], dtype=np.float64).reshape(-1, 2)
    pos = np.asarray(inst.get('point_labels', [1] * len(pts))) == 1
    return pts[pos][0] if pos.any() else pts[0]


def encoder_passes(info: dict, patch: Optional[dict]) -> int:
    """Encoder calls one image costs: 0 without clicks, the patches holding clicks for a scene
    larger than ``patch['size']`` (see :mod:`.scene_patches`), else 1."""
    instances = info.get('instances') or []
    if not instances:
        return 0
    width, height = int(info['width']), int(info['height'])
    if patch is None or max(width, height) <= patch['size']:
        return 1
    windows = scene_windows(width, height, patch['size'], patch['overlap'])
    where = assign_clicks([first_click(inst) for inst in instances], windows)
    return len(set(where.tolist()))


def image_weight(info: dict, patch: Optional[dict] = None) -> int:
    """The work of one image in clicks: its clicks, plus one per encoder pass (an encoder call
    costs about as much as decoding a handful of clicks) and one for reading and writing it."""
    return len(info.get('instances') or []) + encoder_passes(info, patch) + 1


def lpt_plan(weights: Dict[int, int], world_size: int) -> List[List[int]]:
    """Share image ids among ``world_size`` ranks by LPT; returns each rank's ids, heaviest first.

    Deterministic: images sorted by (weight descending, id ascending), each to the rank with the
    least total weight so far, ties to the lowest rank.
    """
    if world_size < 1:
        raise ValueError(f'world_size must be >= 1, got {world_size}')
    plan: List[List[int]] = [[] for _ in range(world_size)]
    loads = [(0, rank) for rank in range(world_size)]  # a heap of (load, rank)
    for image_id in sorted(weights, key=lambda i: (-weights[i], i)):
        load, rank = heapq.heappop(loads)
        plan[rank].append(image_id)
        heapq.heappush(loads, (load + weights[image_id], rank))
    return plan


def plan_loads(plan: Sequence[Sequence[int]], weights: Dict[int, int]) -> List[int]:
    """Total weight per rank of a plan (for the log and the tests)."""
    return [sum(weights[i] for i in ids) for ids in plan]
