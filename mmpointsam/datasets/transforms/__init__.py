from .formatting import PackSAMInputs
from .loading import LoadSAMAnnotations
from .point_flip import RandomFlipPoints
from .point_labels import LoadPointLabels
from .point_prompts import SamplePointPrompts
from .views import RandomShadow, StrongView

__all__ = [
    'PackSAMInputs',
    'LoadSAMAnnotations',
    'SamplePointPrompts',
    'RandomShadow',
    'StrongView',
]
__all__ += ['LoadPointLabels', 'RandomFlipPoints']
