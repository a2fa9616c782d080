from setuptools import find_packages, setup


def read_requirements(path):
    """Requirement lines of a requirements file, comments and blank lines left out."""
    with open(path) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    """The version in mmpointsam/version.py, without importing the package."""
    scope = {}
    with open('mmpointsam/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmpointsam',
    version=read_version(),
    description='Point-supervised SAM adaptation (PointSAM, ReSAM) and point-to-rotated-box '
    'pseudo labels for remote sensing, on MMEngine/MMDetection/MMRotate',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.10',
    # ranges an existing OpenMMLab environment meets; tools/install.sh installs the exact pins
    # of requirements/runtime.txt (with --no-deps for this package)
    install_requires=read_requirements('requirements/install.txt'),
    extras_require=dict(
        sam2=read_requirements('requirements/sam2.txt'),
        geo=read_requirements('requirements/geo.txt'),
        tests=read_requirements('requirements/tests.txt'),
    ),
    license='Apache License 2.0',
    zip_safe=False,
)
