from . import compat  # noqa: F401  (must run before mmrotate is imported)
from .config import apply_num_points, set_num_points, set_sam_checkpoint
from .setup_env import register_all_modules

__all__ = ['register_all_modules', 'apply_num_points', 'set_num_points', 'set_sam_checkpoint']
