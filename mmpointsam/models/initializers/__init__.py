from .pretrained_if_available import PretrainedIfAvailable

__all__ = ['PretrainedIfAvailable']
