"""High-level APIs: point labels -> rotated-box pseudo labels, ground-truth rotated boxes."""

from .gt_rboxes import gt_rboxes
from .inferencer import ClickPrediction, PointSAMInferencer
from .point2rbox import Point2RBoxConverter, point2rbox, point_label_pipeline
from .scene_source import ArraySceneSource, SceneSource, open_scene

__all__ = ['Point2RBoxConverter', 'gt_rboxes', 'point2rbox', 'point_label_pipeline']
__all__ += ['ClickPrediction', 'PointSAMInferencer']
__all__ += ['ArraySceneSource', 'SceneSource', 'open_scene']
