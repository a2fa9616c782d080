from .point_prompt_iou import PointPromptIoUMetric

__all__ = ['PointPromptIoUMetric']
