from .pointsam import PointSAM, Prompts

__all__ = ['PointSAM', 'Prompts']
