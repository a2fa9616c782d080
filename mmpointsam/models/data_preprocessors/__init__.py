from .sam_data_preprocessor import SAMDataPreprocessor, longest_side_shape

__all__ = ['SAMDataPreprocessor', 'longest_side_shape']
