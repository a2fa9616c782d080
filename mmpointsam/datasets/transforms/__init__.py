from .formatting import PackSAMInputs
from .loading import LoadSAMAnnotations
from .point_prompts import SamplePointPrompts
from .views import RandomShadow, StrongView

__all__ = ['PackSAMInputs', 'LoadSAMAnnotations', 'SamplePointPrompts', 'RandomShadow', 'StrongView']
