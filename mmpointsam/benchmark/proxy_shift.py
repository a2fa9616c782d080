"""Point-label training data for the proxy domain-shift benchmark.

``PointOnlyDataset`` reads a COCO json whose annotations carry ``points``/``point_labels`` and
nothing else (written by ``tools/benchmark/split_by_class.py``), so point-supervised training can
not see a mask even by accident. ``RandomFlipPoints`` flips image and points together;
``RandomNumPointPrompts`` samples 1..3 point prompts per image from masks (stage 1 learns to
answer both 1- and 3-point prompts).
"""
import json
from typing import List, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset
from mmengine.fileio import get_local_path

from mmpointsam.datasets.transforms import SamplePointPrompts
from mmpointsam.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class PointOnlyDataset(BaseDataset):
    """Images with point labels: data infos hold ``gt_points`` (N, P, 2), ``gt_point_labels``
    (N, P) and ``gt_bboxes_labels`` (N,) directly. Classes are ``metainfo['classes']`` (label
    indices) matched to the json's category names; images without points are dropped."""

    METAINFO = dict(classes=None)

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file) as local:
            with open(local) as f:
                data = json.load(f)
        for ann in data['annotations']:
            for key in ('segmentation', 'bbox', 'area'):
                if key in ann:
                    raise ValueError(f'{self.ann_file}: annotation {ann.get("id")} has '
                                     f'"{key}"; point-label files must not carry masks or boxes')
        classes = self._metainfo.get('classes') or tuple(c['name'] for c in data['categories'])
        self._metainfo['classes'] = tuple(classes)
        cat2label = {c['id']: classes.index(c['name'])
                     for c in data['categories'] if c['name'] in classes}
        per_image = {img['id']: [] for img in data['images']}
        for ann in data['annotations']:
            per_image[ann['image_id']].append(ann)
        prefix = self.data_prefix.get('img', '')
        infos = []
        for img in data['images']:
            anns = per_image[img['id']]
            if not anns:
                continue
            width = max(len(a['points']) for a in anns)
            points = np.zeros((len(anns), width, 2), np.float32)
            labels = np.full((len(anns), width), -1, np.int64)
            for i, a in enumerate(anns):
                pts = np.asarray(a['points'], np.float32).reshape(-1, 2)
                points[i, :len(pts)] = pts
                labels[i, :len(pts)] = a.get('point_labels', [1] * len(pts))
            infos.append(dict(
                img_path=f'{prefix.rstrip("/")}/{img["file_name"]}' if prefix else
                img['file_name'], img_id=img['id'], height=img['height'], width=img['width'],
                gt_points=points, gt_point_labels=labels,
                gt_bboxes_labels=np.array([cat2label[a['category_id']] for a in anns], np.int64)))
        return infos


@TRANSFORMS.register_module()
class RandomFlipPoints(BaseTransform):
    """Flip the image and ``gt_points`` horizontally and/or vertically, each with ``prob``;
    caps the instances at ``max_instances`` (random subset, a memory cap like
    ``SamplePointPrompts``')."""

    def __init__(self, prob: float = 0.5, max_instances: int = 30) -> None:
        self.prob = prob
        self.max_instances = max_instances

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        points = results['gt_points'].copy()
        valid = results['gt_point_labels'] >= 0
        flipped = []
        if np.random.rand() < self.prob:
            img = img[:, ::-1]
            points[..., 0] = np.where(valid, w - 1 - points[..., 0], points[..., 0])
            flipped.append('horizontal')
        if np.random.rand() < self.prob:
            img = img[::-1]
            points[..., 1] = np.where(valid, h - 1 - points[..., 1], points[..., 1])
            flipped.append('vertical')
        results['img'] = np.ascontiguousarray(img)
        results['gt_points'] = points
        results['flip'] = bool(flipped)
        results['flip_direction'] = '+'.join(flipped) if flipped else None
        num = len(points)
        if self.max_instances and num > self.max_instances:
            keep = np.sort(np.random.choice(num, self.max_instances, replace=False))
            for key in ('gt_points', 'gt_point_labels', 'gt_bboxes_labels'):
                results[key] = results[key][keep]
        return results


@TRANSFORMS.register_module()
class RandomNumPointPrompts(SamplePointPrompts):
    """``SamplePointPrompts`` with the point count drawn from ``choices`` for each image (as many
    negative points as positive ones)."""

    def __init__(self, choices: Sequence[int] = (1, 2, 3), **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def transform(self, results: dict) -> dict:
        self.num_points = self.num_neg_points = int(np.random.choice(self.choices))
        return super().transform(results)
