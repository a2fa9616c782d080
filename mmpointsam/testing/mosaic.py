"""Large test scenes stitched from real images, with their COCO annotations moved along.

Real large remote-sensing scenes (4000 px and more) are what window-based inference and
conversion must handle; a mosaic of native-resolution NWPU VHR-10 tiles is such a scene whose
ground truth is known exactly. Tiles are placed row by row (shelf packing) at native
resolution, never resized, so every polygon and box moves by a pure translation.
"""

import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmpointsam.fileio import atomic_dump_json


def _shift_segmentation(seg, dx: float, dy: float, where: str):
    """Polygon segmentations moved by (dx, dy); RLE is refused."""
    if not isinstance(seg, list):
        raise ValueError(
            f'{where}: only polygon segmentations can be moved into a mosaic, '
            f'got {type(seg).__name__} (RLE)'
        )
    out = []
    for poly in seg:
        arr = np.asarray(poly, dtype=np.float64).reshape(-1, 2) + (dx, dy)
        out.append([float(v) for v in arr.reshape(-1)])
    return out


def _load_images(coco_json: str, file_names: Optional[Sequence[str]]) -> Tuple[dict, List[dict]]:
    """The COCO dict and its image entries in ``file_names`` order (default: the json's)."""
    if not osp.isfile(coco_json):
        raise FileNotFoundError(f'COCO json not found: {coco_json}')
    with open(coco_json) as f:
        coco = json.load(f)
    images = coco['images']
    if file_names is not None:
        by_name = {img['file_name']: img for img in images}
        missing = [n for n in file_names if n not in by_name]
        if missing:
            raise ValueError(f'{coco_json}: images {missing} are not in its "images"')
        images = [by_name[n] for n in file_names]
    return coco, images


def _pack_tiles(
    coco_json: str, images: List[dict], img_dir: str, scene: np.ndarray, gap: int
) -> List[dict]:
    """Copy tiles into ``scene`` row by row (shelf packing); their placements, in order."""
    height, width = scene.shape[:2]
    placements: List[dict] = []
    x = y = row_h = 0
    for img in images:
        w, h = img['width'], img['height']
        if w > width or h > height:
            continue
        if x + w > width:  # new row
            x, y, row_h = 0, y + row_h + gap, 0
        if y + h > height:
            break
        path = osp.join(img_dir, img['file_name'])
        tile = cv2.imread(path, cv2.IMREAD_COLOR)
        if tile is None:
            raise FileNotFoundError(f'{coco_json}: image {path} is missing or unreadable')
        if tile.shape[:2] != (h, w):
            raise ValueError(
                f'{coco_json}: {path} is {tile.shape[1]}x{tile.shape[0]}, its '
                f'annotation says {w}x{h}'
            )
        scene[y : y + h, x : x + w] = tile
        placements.append(
            dict(file_name=img['file_name'], image_id=img['id'], x=x, y=y, width=w, height=h)
        )
        x, row_h = x + w + gap, max(row_h, h)
    if not placements:
        raise ValueError(f'{coco_json}: no image fits a {width}x{height} mosaic')
    return placements


def _move_annotations(coco_json: str, annotations: List[dict], placements: List[dict]):
    """The placed tiles' annotations translated into the scene (image id 0; the tile's id kept
    as ``source_image_id``): polygons, ``bbox`` and ``points``."""
    offset = {p['image_id']: (p['x'], p['y']) for p in placements}
    anns = []
    for ann in annotations:
        if ann['image_id'] not in offset:
            continue
        dx, dy = offset[ann['image_id']]
        where = f'{coco_json} annotation {ann.get("id")}'
        moved = dict(ann, image_id=0, source_image_id=ann['image_id'])
        if 'segmentation' in ann:
            moved['segmentation'] = _shift_segmentation(ann['segmentation'], dx, dy, where)
        if 'bbox' in ann:
            bx, by, bw, bh = ann['bbox']
            moved['bbox'] = [bx + dx, by + dy, bw, bh]
        if 'points' in ann:
            moved['points'] = [[px + dx, py + dy] for px, py in ann['points']]
        anns.append(moved)
    return anns


def build_mosaic(
    coco_json: str,
    img_dir: str,
    size: Tuple[int, int] = (4000, 4000),
    file_names: Optional[Sequence[str]] = None,
    gap: int = 16,
    fill: int = 0,
    out_dir: Optional[str] = None,
    name: str = 'mosaic',
) -> dict:
    """Stitch images of a COCO json into one ``size`` = (width, height) scene.

    Tiles are taken in ``file_names`` order (default: the json's image order) and packed in
    rows, left to right, ``gap`` pixels apart; a tile that does not fit in the current row
    starts a new one, and packing stops at the first tile whose row would leave the scene.
    Their annotations are translated: ``segmentation`` polygons, ``bbox`` (xywh) and any
    ``points`` [[x, y], ...]; ``area`` is unchanged. Annotation ids are kept.

    Args:
        out_dir: if given, writes ``<name>.png`` (lossless, so pixels equal the tiles') and
            ``<name>.json`` (COCO with the one scene image) there.

    Returns:
        dict(img=(H, W, 3) uint8 BGR, coco=COCO dict, placements=[dict(file_name, image_id,
        x, y, width, height)], img_path / ann_file when written).
    """
    coco, images = _load_images(coco_json, file_names)
    width, height = size
    scene = np.full((height, width, 3), fill, dtype=np.uint8)
    placements = _pack_tiles(coco_json, images, img_dir, scene, gap)
    file_name = f'{name}.png'
    out = dict(
        info=dict(
            description=f'mosaic of {len(placements)} images of {osp.basename(coco_json)}',
            placements=placements,
        ),
        images=[dict(id=0, file_name=file_name, width=width, height=height)],
        categories=coco['categories'],
        annotations=_move_annotations(coco_json, coco['annotations'], placements),
    )
    result = dict(img=scene, coco=out, placements=placements)
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        img_path = osp.join(out_dir, file_name)
        if not cv2.imwrite(img_path, scene):
            raise OSError(f'could not write {img_path}')
        ann_file = osp.join(out_dir, f'{name}.json')
        atomic_dump_json(out, ann_file)
        result.update(img_path=img_path, ann_file=ann_file)
    return result
