from .data_preprocessors import *  # noqa: F401,F403
from .initializers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .sam import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .self_training import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
