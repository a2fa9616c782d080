from .mask_selection import (
    AreaPriorScorer,
    ClickCentreScorer,
    MaskCandidates,
    MaskSelector,
    PredictedIoUScorer,
    RectangularityScorer,
)
from .prompt_simulation import InteractivePromptSimulation

__all__ = [
    'AreaPriorScorer',
    'ClickCentreScorer',
    'InteractivePromptSimulation',
    'MaskCandidates',
    'MaskSelector',
    'PredictedIoUScorer',
    'RectangularityScorer',
]
