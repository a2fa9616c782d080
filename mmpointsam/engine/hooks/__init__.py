from .finite_loss_hook import FiniteLossHook
from .pseudo_label_monitor_hook import PseudoLabelMonitorHook
from .sam_visualization_hook import SAMVisualizationHook

__all__ = ['FiniteLossHook', 'PseudoLabelMonitorHook', 'SAMVisualizationHook']
