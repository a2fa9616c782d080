from .mask_selection import (AreaPriorScorer, ClickCentreScorer, MaskCandidates, MaskSelector,
                             PredictedIoUScorer, RectangularityScorer)

__all__ = [
    'AreaPriorScorer', 'ClickCentreScorer', 'MaskCandidates', 'MaskSelector',
    'PredictedIoUScorer', 'RectangularityScorer'
]
