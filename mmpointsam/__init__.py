"""mmpointsam: point-supervised SAM adaptation for remote sensing on OpenMMLab."""

from .utils import compat  # noqa: F401  (patch collections before anything imports mmrotate)
from .utils.checkpoint_loading import register_checkpoint_loader
from .version import __version__  # noqa: F401

# MMEngine's own checkpoints load under torch's weights_only default (see checkpoint_loading)
register_checkpoint_loader()
