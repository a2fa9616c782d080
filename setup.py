from setuptools import find_packages, setup


def read_version():
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
    python_requires='>=3.8',
    license='Apache License 2.0',
    zip_safe=False,
)
