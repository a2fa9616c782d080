from .rbox_quality import format_quality_table, rbox_label_quality, rotated_map

__all__ = ['format_quality_table', 'rbox_label_quality', 'rotated_map']
