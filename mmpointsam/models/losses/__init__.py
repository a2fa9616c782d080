from .dice_loss import MaskDiceLoss
from .focal_loss import MaskFocalLoss
from .iou_prediction_loss import IoUPredictionLoss, binary_mask_iou

__all__ = ['MaskDiceLoss', 'MaskFocalLoss', 'IoUPredictionLoss', 'binary_mask_iou']
