"""Point prompts read from annotations (``PointLabelDataset``) rather than sampled from masks."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmpointsam.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadPointLabels(BaseTransform):
    """Turn ``instances`` (``points``, ``point_labels``, ``bbox_label``, ``ann_id``) into
    ``gt_points`` (N, P, 2) float32, ``gt_point_labels`` (N, P) int64 (padded with -1),
    ``gt_bboxes_labels`` (N,) and ``instance_ids`` (N,), the annotation ids (pack them with
    ``PackSAMInputs(meta_keys=(..., 'instance_ids'))`` to keep them with the predictions)."""

    def transform(self, results: dict) -> dict:
        instances = results.get('instances', [])
        num = len(instances)
        width = max((len(inst['points']) for inst in instances), default=1)
        points = np.zeros((num, width, 2), dtype=np.float32)
        labels = np.full((num, width), -1, dtype=np.int64)
        for i, inst in enumerate(instances):
            pts = np.asarray(inst['points'], dtype=np.float32).reshape(-1, 2)
            points[i, :len(pts)] = pts
            labels[i, :len(pts)] = inst.get('point_labels', [1] * len(pts))
        results['gt_points'] = points
        results['gt_point_labels'] = labels
        results['gt_bboxes_labels'] = np.array([inst['bbox_label'] for inst in instances],
                                               dtype=np.int64)
        results['instance_ids'] = np.array([inst.get('ann_id', -1) for inst in instances],
                                           dtype=np.int64)
        return results
