"""Print the environment and what it can run: ``python tools/collect_env.py [--check]``."""

import sys

from mmpointsam.utils.collect_env import main

if __name__ == '__main__':
    sys.exit(main())
