from .chunked_backward import chunked_losses
from .chunked_decode import decode_in_chunks, decode_per_image
from .mask_geometry import (
    input_to_original_points,
    low_res_to_original,
    original_to_input_points,
    original_to_low_res,
    pad_offset_of,
)

__all__ = [
    'chunked_losses',
    'decode_in_chunks',
    'decode_per_image',
    'input_to_original_points',
    'low_res_to_original',
    'original_to_low_res',
    'original_to_input_points',
    'pad_offset_of',
]
