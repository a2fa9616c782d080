"""`pip install -e .` asks for ranges an existing OpenMMLab environment meets: they cover every
package mmpointsam imports, and the installer's exact pins lie inside them."""

import ast
import glob
import os
import os.path as osp
import sys

from conftest import REPO
from packaging.requirements import Requirement
from packaging.version import Version

# import name -> distribution, where they differ
DISTRIBUTION = {
    'cv2': 'opencv-python',
    'PIL': 'pillow',
    'finch': 'finch-clust',
    'segment_anything': 'segment-anything',
    'sklearn': 'scikit-learn',
}


def _requirements(name):
    with open(osp.join(REPO, 'requirements', name)) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [Requirement(line) for line in lines if line]


def _setup_kwargs():
    """What setup.py passes to setuptools.setup, read without installing anything."""
    import setuptools

    captured = {}
    original = setuptools.setup
    setuptools.setup = lambda **kw: captured.update(kw)
    cwd = os.getcwd()
    try:
        os.chdir(REPO)
        exec(compile(open('setup.py').read(), 'setup.py', 'exec'), {'__name__': '__main__'})
    finally:
        setuptools.setup = original
        os.chdir(cwd)
    return captured


def _norm(name):
    return name.lower().replace('_', '-')


def test_setup_reads_the_ranges_of_requirements_install_txt():
    kwargs = _setup_kwargs()
    assert [Requirement(r) for r in kwargs['install_requires']] == _requirements('install.txt')
    assert [Requirement(r) for r in kwargs['extras_require']['geo']] == _requirements('geo.txt')
    assert 'sam2' in kwargs['extras_require']
    assert kwargs['python_requires'] == '>=3.10'


def test_installer_pins_lie_inside_the_ranges():
    pins = {_norm(r.name): r for r in _requirements('runtime.txt')}
    pins['mmcv'] = Requirement('mmcv==2.0.1')  # built from source by tools/install.sh
    checked = 0
    for req in _requirements('install.txt') + _requirements('geo.txt'):
        pin = pins.get(_norm(req.name))
        if pin is None:
            continue  # pulled in by the stack (e.g. Pillow), not pinned by the installer
        (spec,) = pin.specifier
        assert req.specifier.contains(Version(spec.version), prereleases=True), (req, pin)
        checked += 1
    assert checked >= 15


def test_ranges_cover_every_import_of_the_package():
    """Every third-party module mmpointsam imports is required, or in an extra (sam2; geo,
    imported by mmpointsam.geo only when used)."""
    required = {_norm(r.name) for r in _requirements('install.txt')}
    optional = {'sam2'} | {_norm(r.name) for r in _requirements('geo.txt')}
    stdlib = set(sys.stdlib_module_names)
    modules = set()
    for path in glob.glob(osp.join(REPO, 'mmpointsam', '**', '*.py'), recursive=True):
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Import):
                modules |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split('.')[0])
    third_party = {m for m in modules if m not in stdlib and m not in ('mmpointsam',)}
    assert {'torch', 'mmcv', 'mmrotate', 'cv2'} <= third_party
    missing = sorted(
        m for m in third_party if _norm(DISTRIBUTION.get(m, m)) not in required | optional
    )
    assert not missing, f'imported but not in requirements/install.txt: {missing}'
