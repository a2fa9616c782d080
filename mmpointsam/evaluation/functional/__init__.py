from .rbox_quality import (
    SIZE_BUCKETS,
    format_quality_table,
    format_size_table,
    rbox_label_quality,
    rotated_map,
    size_bucket,
)

__all__ = [
    'SIZE_BUCKETS',
    'format_quality_table',
    'format_size_table',
    'rbox_label_quality',
    'rotated_map',
    'size_bucket',
]
