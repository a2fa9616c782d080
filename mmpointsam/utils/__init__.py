from . import compat  # noqa: F401  (must run before mmrotate is imported)
from .config import (
    add_common_arguments,
    apply_num_points,
    load_config,
    set_mixed_precision,
    set_num_points,
    set_sam_checkpoint,
)
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules',
    'add_common_arguments',
    'apply_num_points',
    'load_config',
    'set_mixed_precision',
    'set_num_points',
    'set_sam_checkpoint',
]
