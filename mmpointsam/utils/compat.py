"""Python >= 3.10 compatibility for MMRotate 1.0.0rc1.

mmrotate 1.0.0rc1 does ``from collections import Sequence``; the ABC aliases were removed from
``collections`` in Python 3.10. Importing this module (``import mmpointsam`` does) restores the
aliases before mmrotate is imported. It only adds names that are missing, so it is a no-op on
older Pythons.
"""

import collections
import collections.abc

_ALIASES = ('Sequence', 'Mapping', 'MutableMapping', 'Iterable', 'Callable', 'Hashable')

for _name in _ALIASES:
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
