from .formatting import PackSAMInputs
from .loading import LoadSAMAnnotations
from .point_prompts import SamplePointPrompts

__all__ = ['PackSAMInputs', 'LoadSAMAnnotations', 'SamplePointPrompts']
