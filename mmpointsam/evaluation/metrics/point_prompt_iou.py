"""Per-instance mask IoU / F1 of point-prompted SAM, the evaluation protocol of PointSAM and ReSAM.

Each ground-truth instance is prompted once; its prediction is scored against its own GT mask at the
original image resolution, then averaged per image and over the dataset.
"""

from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpointsam.registry import METRICS


def _to_mask_tensor(masks) -> torch.Tensor:
    """Convert BitmapMasks / numpy array / tensor of shape (N, H, W) to a CPU bool tensor."""
    if not isinstance(masks, (torch.Tensor, np.ndarray)):
        if hasattr(masks, 'to_ndarray'):  # mmdet BitmapMasks / PolygonMasks
            masks = masks.to_ndarray()
        else:
            masks = np.asarray(masks)
    if isinstance(masks, np.ndarray):
        masks = torch.from_numpy(np.ascontiguousarray(masks))
    masks = masks.detach().cpu()
    if masks.is_floating_point():
        # Soft masks (probabilities) are binarised as SAM does for its outputs.
        return masks > 0.5
    return masks.bool()


def _to_numpy_labels(labels) -> np.ndarray:
    """Class labels as a flat int64 array."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    return np.asarray(labels, dtype=np.int64).reshape(-1)


def instance_iou_f1(
    pred_masks: torch.Tensor, gt_masks: torch.Tensor
) -> Tuple[np.ndarray, np.ndarray]:
    """IoU and F1 between ``pred_masks[i]`` and ``gt_masks[i]`` (bool tensors (N, H, W)).

    Both scores are 1.0 for a pair where prediction and ground truth are both empty.
    """
    pred = pred_masks.flatten(1)
    gt = gt_masks.flatten(1)
    inter = (pred & gt).sum(1).double()
    area_sum = (pred.sum(1) + gt.sum(1)).double()
    union = area_sum - inter
    ones = torch.ones_like(inter)
    iou = torch.where(union > 0, inter / union.clamp(min=1), ones)
    f1 = torch.where(area_sum > 0, 2 * inter / area_sum.clamp(min=1), ones)
    return iou.numpy(), f1.numpy()


def _per_class(metrics: dict, labels, ious, f1s, classes) -> List[List[str]]:
    """Add ``IoU_<class>`` and ``F1_<class>`` (instance means) to ``metrics``; the table rows."""
    rows = []
    for label in np.unique(labels):
        name = classes[label] if 0 <= label < len(classes) else f'class_{label}'
        keep = labels == label
        metrics[f'IoU_{name}'] = round(float(ious[keep].mean()), 4)
        metrics[f'F1_{name}'] = round(float(f1s[keep].mean()), 4)
        rows.append(
            [
                str(name),
                str(int(keep.sum())),
                f'{metrics[f"IoU_{name}"]:.4f}',
                f'{metrics[f"F1_{name}"]:.4f}',
            ]
        )
    return rows


@METRICS.register_module()
class PointPromptIoUMetric(BaseMetric):
    """Mask IoU / F1 of one prediction per GT instance (PointSAM / ReSAM protocol).

    Reports ``mIoU``/``mF1`` (mean over images of the per-image instance mean, the papers' number),
    ``instance_mIoU``/``instance_mF1`` (mean over all instances), ``IoU_<class>``/``F1_<class>``
    (mean over the instances of each occurring class), ``num_images`` and ``num_instances``.
    Prediction ``i`` of an image must belong to its ground-truth instance ``i``.

    Args:
        collect_device (str): Device used to collect results across ranks ('cpu' or 'gpu').
        prefix (str, optional): Prefix of the metric names; defaults to ``'sam'``.
    """

    default_prefix: Optional[str] = 'sam'

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score each prediction against the instance it was prompted from: IoU and F1."""
        for data_sample in data_samples:
            if not isinstance(data_sample, dict) and hasattr(data_sample, 'to_dict'):
                data_sample = data_sample.to_dict()
            img_id = data_sample.get('img_id')
            gt = data_sample['gt_instances']
            pred = data_sample['pred_instances']
            gt_masks = _to_mask_tensor(gt['masks'])
            pred_masks = _to_mask_tensor(pred['masks'])
            # Per-class scores use the GT labels: the prediction was prompted from that instance.
            labels = _to_numpy_labels(gt['labels'])

            if len(pred_masks) != len(gt_masks):
                raise ValueError(
                    f'img_id {img_id}: {len(pred_masks)} predicted masks for {len(gt_masks)} '
                    'ground-truth instances; point-prompt evaluation needs one prediction per '
                    'ground-truth instance, in the same order.'
                )
            if len(gt_masks) == 0:
                # Keep one record per image: in distributed runs ``collect_results`` restores the
                # order and drops the sampler's padding by counting records.
                empty = np.zeros(0, dtype=np.float64)
                self.results.append(
                    dict(img_id=img_id, labels=np.zeros(0, dtype=np.int64), ious=empty, f1s=empty)
                )
                continue
            if pred_masks.shape[-2:] != gt_masks.shape[-2:]:
                raise ValueError(
                    f'img_id {img_id}: predicted masks of size {tuple(pred_masks.shape[-2:])} but '
                    f'ground-truth masks of size {tuple(gt_masks.shape[-2:])} (ori_shape '
                    f'{data_sample.get("ori_shape")}); predictions must be at original size.'
                )
            if len(labels) != len(gt_masks):
                raise ValueError(
                    f'img_id {img_id}: {len(labels)} GT labels for {len(gt_masks)} GT masks.'
                )

            ious, f1s = instance_iou_f1(pred_masks, gt_masks)
            self.results.append(dict(img_id=img_id, labels=labels, ious=ious, f1s=f1s))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean IoU and F1 over images (``mIoU``, ``mF1``), over instances and per class; a
        per-class table in the log."""
        logger = MMLogger.get_current_instance()
        metrics: Dict[str, float] = OrderedDict()
        results = [r for r in results if len(r['ious']) > 0]
        if not results:
            logger.warning('PointPromptIoUMetric: no ground-truth instances were evaluated.')
            for key in ('mIoU', 'mF1', 'instance_mIoU', 'instance_mF1'):
                metrics[key] = 0.0
            metrics['num_images'] = 0
            metrics['num_instances'] = 0
            return metrics

        labels = np.concatenate([r['labels'] for r in results])
        ious = np.concatenate([r['ious'] for r in results])
        f1s = np.concatenate([r['f1s'] for r in results])

        metrics['mIoU'] = round(float(np.mean([r['ious'].mean() for r in results])), 4)
        metrics['mF1'] = round(float(np.mean([r['f1s'].mean() for r in results])), 4)
        metrics['instance_mIoU'] = round(float(ious.mean()), 4)
        metrics['instance_mF1'] = round(float(f1s.mean()), 4)

        classes = (self.dataset_meta or {}).get('classes') or ()
        table_rows = _per_class(metrics, labels, ious, f1s, classes)
        metrics['num_images'] = len(results)
        metrics['num_instances'] = int(len(labels))

        table_rows.append(
            [
                'all (instances)',
                str(len(labels)),
                f'{metrics["instance_mIoU"]:.4f}',
                f'{metrics["instance_mF1"]:.4f}',
            ]
        )
        self._log_table(logger, table_rows)
        logger.info(
            f'Point-prompt mIoU {metrics["mIoU"]:.4f}, mF1 {metrics["mF1"]:.4f} '
            f'(per-image means over {len(results)} images)'
        )
        return metrics

    @staticmethod
    def _log_table(logger: MMLogger, rows: List[List[str]]) -> None:
        """Log the per-class rows as a table (plain text without terminaltables)."""
        header = ['class', 'instances', 'IoU', 'F1']
        try:
            from terminaltables import AsciiTable
        except ImportError:
            lines = [' | '.join(header)] + [' | '.join(row) for row in rows]
            logger.info('Per-class point-prompt results:\n' + '\n'.join(lines))
        else:
            logger.info('Per-class point-prompt results:\n' + AsciiTable([header] + rows).table)
