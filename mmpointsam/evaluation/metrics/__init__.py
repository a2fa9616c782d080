from .point_prompt_iou import PointPromptIoUMetric
from .rbox_dump_metric import RBoxDumpMetric

__all__ = ['PointPromptIoUMetric', 'RBoxDumpMetric']
