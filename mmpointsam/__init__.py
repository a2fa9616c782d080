"""mmpointsam: point-supervised SAM adaptation for remote sensing on OpenMMLab."""
from .utils import compat  # noqa: F401  (patch collections before anything imports mmrotate)
from .version import __version__  # noqa: F401
