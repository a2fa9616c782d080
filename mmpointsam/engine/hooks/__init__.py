from .finite_loss_hook import FiniteLossHook
from .sam_visualization_hook import SAMVisualizationHook

__all__ = ['FiniteLossHook', 'SAMVisualizationHook']
