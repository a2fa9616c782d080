from .npc import NegativePromptCalibration, pairwise_mask_iou

__all__ = ['NegativePromptCalibration', 'pairwise_mask_iou']
