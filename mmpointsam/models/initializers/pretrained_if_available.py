"""Pretrained weights when they can be had, else a loud warning and random init (offline use)."""

import logging

from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit

from mmpointsam.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module()
class PretrainedIfAvailable(PretrainedInit):
    """MMEngine's ``Pretrained`` init that, when the checkpoint cannot be read (no internet and
    not in the torch hub cache, or no such file), warns and keeps the module's random weights.

    Lets stock configs (ImageNet ResNet-50 via ``torchvision://resnet50``) run on an offline
    machine; the warning says the results are not comparable to pretrained ones.
    """

    def __call__(self, module) -> None:
        try:
            super().__call__(module)
        except OSError as e:  # URLError, FileNotFoundError, ...
            print_log(
                f'{type(module).__name__}: could not load {self.checkpoint} ({e}); it starts '
                'from RANDOM weights. Detection results are then far below pretrained ones; '
                'with internet (or the file in the torch hub cache) the weights load.',
                logger='current',
                level=logging.WARNING,
            )
