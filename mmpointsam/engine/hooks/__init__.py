from .sam_visualization_hook import SAMVisualizationHook

__all__ = ['SAMVisualizationHook']
