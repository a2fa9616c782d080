from .guards import PseudoLabelGate, PseudoMaskStatistics, clicks_inside, stability_score
from .npc import NegativePromptCalibration, pairwise_mask_iou
from .prototypes import (
    PrototypeMemoryBank,
    PrototypeRegularizer,
    finch_prototypes,
    prototype_matching_loss,
    sample_point_features,
)
from .resam import ConfidenceRefiner, EmbeddingAlignmentLoss, binary_entropy, masks_to_boxes
from .strategy import PointPromptSelfTraining
from .teachers import CurrentWeightsTeacher, EMATeacher, FrozenTeacher

__all__ = [
    'PseudoLabelGate',
    'PseudoMaskStatistics',
    'clicks_inside',
    'stability_score',
    'NegativePromptCalibration',
    'pairwise_mask_iou',
    'PrototypeMemoryBank',
    'PrototypeRegularizer',
    'finch_prototypes',
    'prototype_matching_loss',
    'sample_point_features',
    'ConfidenceRefiner',
    'EmbeddingAlignmentLoss',
    'binary_entropy',
    'masks_to_boxes',
    'PointPromptSelfTraining',
    'CurrentWeightsTeacher',
    'EMATeacher',
    'FrozenTeacher',
]
