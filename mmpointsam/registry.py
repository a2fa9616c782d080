"""Registries of mmpointsam.

Children of MMDetection's registries (themselves children of MMEngine's root), so configs with
``default_scope='mmpointsam'`` reach our modules first, then mmdet's and mmengine's. ``locations``
lets MMEngine import the implementing modules lazily: configs need no ``custom_imports``.
"""

from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOG_PROCESSORS as MMDET_LOG_PROCESSORS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import OPTIMIZERS as MMDET_OPTIMIZERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import RUNNER_CONSTRUCTORS as MMDET_RUNNER_CONSTRUCTORS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmdet.registry import WEIGHT_INITIALIZERS as MMDET_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMDET_RUNNERS, locations=['mmpointsam.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMDET_RUNNER_CONSTRUCTORS, locations=['mmpointsam.engine']
)
LOOPS = Registry('loop', parent=MMDET_LOOPS, locations=['mmpointsam.engine'])
HOOKS = Registry('hook', parent=MMDET_HOOKS, locations=['mmpointsam.engine'])

DATASETS = Registry('dataset', parent=MMDET_DATASETS, locations=['mmpointsam.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMDET_DATA_SAMPLERS, locations=['mmpointsam.datasets']
)
TRANSFORMS = Registry(
    'transform', parent=MMDET_TRANSFORMS, locations=['mmpointsam.datasets.transforms']
)

MODELS = Registry('model', parent=MMDET_MODELS, locations=['mmpointsam.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMDET_MODEL_WRAPPERS, locations=['mmpointsam.models']
)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMDET_WEIGHT_INITIALIZERS, locations=['mmpointsam.models']
)
TASK_UTILS = Registry('task util', parent=MMDET_TASK_UTILS, locations=['mmpointsam.models'])

OPTIMIZERS = Registry('optimizer', parent=MMDET_OPTIMIZERS, locations=['mmpointsam.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMDET_OPTIM_WRAPPERS, locations=['mmpointsam.engine']
)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmpointsam.engine'],
)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMDET_PARAM_SCHEDULERS, locations=['mmpointsam.engine']
)

METRICS = Registry('metric', parent=MMDET_METRICS, locations=['mmpointsam.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMDET_EVALUATOR, locations=['mmpointsam.evaluation'])

VISUALIZERS = Registry(
    'visualizer', parent=MMDET_VISUALIZERS, locations=['mmpointsam.visualization']
)
VISBACKENDS = Registry(
    'vis_backend', parent=MMDET_VISBACKENDS, locations=['mmpointsam.visualization']
)
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMDET_LOG_PROCESSORS, locations=['mmpointsam.engine']
)
