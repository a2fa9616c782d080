"""Dump point-prompted mask predictions as rotated boxes, so ``tools/test.py`` converts too."""

import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmpointsam.fileio import RBoxLabelWriter, predictions_to_coco_anns
from mmpointsam.registry import METRICS
from mmpointsam.structures import RBOX_METHODS, masks_to_rboxes


def _numpy(value) -> np.ndarray:
    """A tensor or array-like as a numpy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


@METRICS.register_module()
class RBoxDumpMetric(BaseMetric):
    """Turn each prediction's mask into a le90 rotated box and write the labels of the whole test
    set to ``out_dir`` (``labels.json`` COCO with 4-corner polygons, ``annfiles/*.txt`` DOTA).

    Boxes keep the prompt's class and, with ``PointLabelDataset``, its annotation id (packed as
    ``instance_ids``); the score is SAM's predicted IoU. Category ids come from the dataset's
    ``metainfo['categories']``, else are 1..K in class order. Files are written once all images
    are predicted (atomically), so an interrupted test leaves no complete-looking json.

    Args:
        out_dir: output folder; an earlier dump there is replaced.
        method: mask -> rbox, ``'largest'`` component or ``'all'`` pixels.
    """

    default_prefix: Optional[str] = 'rbox'

    def __init__(
        self,
        out_dir: str,
        method: str = 'largest',
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if method not in RBOX_METHODS:
            raise ValueError(f'unknown mask -> rbox method {method!r}; choose from {RBOX_METHODS}')
        self.out_dir = out_dir
        self.method = method

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Fit a rotated box to each predicted mask and keep them per image."""
        for sample in data_samples:
            pred = sample['pred_instances']
            masks = _numpy(pred['masks']).astype(bool)
            rboxes, valid = masks_to_rboxes(masks, self.method)
            height, width = (int(v) for v in sample['ori_shape'][:2])
            ids = sample.get('instance_ids')
            self.results.append(
                dict(
                    image=dict(
                        id=sample['img_id'],
                        file_name=sample.get('file_name', osp.basename(sample['img_path'])),
                        width=width,
                        height=height,
                    ),
                    rboxes=rboxes,
                    valid=valid,
                    scores=_numpy(pred['scores']).astype(np.float64),
                    labels=_numpy(pred['labels']).astype(np.int64),
                    ids=None if ids is None else _numpy(ids).astype(np.int64),
                )
            )

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Write every image's boxes (COCO json and DOTA txt) and report how many."""
        meta = self.dataset_meta or {}
        categories = meta.get('categories') or [
            dict(id=i + 1, name=name) for i, name in enumerate(meta.get('classes', ()))
        ]
        if not categories:
            raise ValueError(
                "RBoxDumpMetric needs the dataset's classes (dataset_meta) to name the boxes"
            )
        writer = RBoxLabelWriter(
            self.out_dir,
            [r['image'] for r in results],
            categories,
            settings=dict(source='RBoxDumpMetric', method=self.method),
            resume=False,
        )
        next_id = 1
        for r in results:
            ids = r['ids']
            if ids is None:  # no annotation ids (prompts sampled from masks): number them
                ids = np.arange(next_id, next_id + len(r['labels']))
                next_id += len(ids)
            anns, empty = predictions_to_coco_anns(
                r['image']['id'], r['rboxes'], r['valid'], r['labels'], r['scores'], ids, categories
            )
            writer.write_image(r['image'], anns, empty)
        summary = writer.finalize(
            info=dict(
                description='rotated boxes of point-prompted SAM predictions (RBoxDumpMetric)'
            )
        )
        print_log(
            f'RBoxDumpMetric: {summary["num_boxes"]} rotated boxes of '
            f'{summary["num_images"]} images in {summary["json"]} and '
            f'{summary["dota_dir"]}; {summary["num_empty"]} empty masks (no box)',
            logger='current',
        )
        return dict(num_boxes=summary['num_boxes'], num_empty=summary['num_empty'])
