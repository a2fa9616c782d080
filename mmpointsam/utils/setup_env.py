"""Registration helpers in the OpenMMLab style."""

import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module of mmpointsam so its registries are filled.

    Args:
        init_default_scope: set the default scope to ``mmpointsam`` as well.
    """
    import mmpointsam.datasets  # noqa: F401
    import mmpointsam.engine  # noqa: F401
    import mmpointsam.evaluation  # noqa: F401
    import mmpointsam.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmpointsam'):
        DefaultScope.get_instance('mmpointsam', scope_name='mmpointsam')
    elif current.scope_name != 'mmpointsam':
        # another package's scope is current (e.g. an MMRotate runner ran before): make ours
        # current again, or mmpointsam's modules would be looked up in that package's registries
        warnings.warn(
            f'The current default scope "{current.scope_name}" is not '
            '"mmpointsam"; a new default scope "mmpointsam" is created.'
        )
        DefaultScope.get_instance(f'mmpointsam-{datetime.datetime.now()}', scope_name='mmpointsam')
