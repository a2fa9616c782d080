"""The software stack this release is tested on, and a check that the running one matches it.

Compiled pieces of the stack depend on each other (mmcv's ops on the torch they were built
against, mmdet/mmrotate on mmcv's version range, torch on numpy's ABI), and a drifted
environment tends to run and give different numbers rather than fail. The tools therefore stop
on a mismatch unless the user opts out with ``MMPOINTSAM_ALLOW_UNTESTED_STACK=1``.
``requirements/runtime.txt`` pins the same versions (tests/test_utils/test_stack.py keeps them
equal).
"""

import os
from importlib import metadata
from typing import Dict, List

# distribution name -> version
TESTED_STACK: Dict[str, str] = {
    'torch': '2.11.0',
    'torchvision': '0.26.0',
    'numpy': '2.2.6',
    'mmengine': '0.10.7',
    'mmcv': '2.0.1',
    'mmdet': '3.1.0',
    'mmrotate': '1.0.0rc1',
    # mmpointsam.geo: wheels that bundle GDAL / PROJ, built against numpy 2
    'rasterio': '1.4.4',
    'pyogrio': '0.13.0',
    'pyproj': '3.7.1',
    'geopandas': '1.1.4',
}
SUPPORTED_PYTHON = ((3, 10), (3, 13))
OPT_OUT = 'MMPOINTSAM_ALLOW_UNTESTED_STACK'


def installed_version(dist: str) -> str:
    """Installed version of a distribution without its local tag (``2.11.0+cu130`` -> ``2.11.0``),
    or ``'missing'``."""
    try:
        return metadata.version(dist).split('+')[0]
    except metadata.PackageNotFoundError:
        return 'missing'


def stack_mismatches() -> List[str]:
    """One line per package whose installed version differs from the tested one."""
    lines = []
    for dist, want in TESTED_STACK.items():
        have = installed_version(dist)
        if have != want:
            lines.append(f'{dist} {have} (tested: {want})')
    return lines


def check_stack() -> None:
    """Raise if the environment differs from the tested stack (see the module docstring).

    Raises:
        RuntimeError: listing every mismatched package and how to fix or override it.
    """
    import sys

    lo, hi = SUPPORTED_PYTHON
    problems = stack_mismatches()
    if not lo <= sys.version_info[:2] <= hi:
        problems.insert(
            0, f'Python {sys.version.split()[0]} (supported: {lo[0]}.{lo[1]} to {hi[0]}.{hi[1]})'
        )
    if not problems or os.environ.get(OPT_OUT) == '1':
        return
    raise RuntimeError(
        'mmpointsam is tested on another software stack than the one installed:\n  '
        + '\n  '.join(problems)
        + '\nInstall the tested stack with `make install` (tools/install.sh), see '
        '`python tools/collect_env.py`, or set '
        f'{OPT_OUT}=1 to run anyway (results may differ from the tested stack).'
    )
