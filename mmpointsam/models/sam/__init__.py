from .lora import SplitQKV, apply_lora, merged_state_dict
from .sam import ARCH_SETTINGS, SAM, build_sam
from .sam2 import SAM2, build_sam2
from .tiny_vit import TinyViT

__all__ = [
    'SAM',
    'build_sam',
    'ARCH_SETTINGS',
    'TinyViT',
    'SplitQKV',
    'apply_lora',
    'merged_state_dict',
    'SAM2',
    'build_sam2',
]
