"""Child processes that die with their parent (Linux), so a killed run leaves no worker behind.

A ``kill -9`` or an unhandled SIGTERM of a training process gives its DataLoader workers no
chance to be stopped; persistent workers then linger as orphans holding memory. Every
multiprocessing child started after :func:`die_with_parent` asks the kernel
(``prctl(PR_SET_PDEATHSIG)``) for SIGKILL when its parent exits.
"""

import ctypes
import os
import signal
import sys
from multiprocessing import util

PR_SET_PDEATHSIG = 1


class _DieWithParent:
    """Held in multiprocessing's after-fork registry (it keeps only weak references)."""

    def __init__(self, parent: int) -> None:
        self.parent = parent


_HOOK = None


def set_pdeathsig(parent_pid: int, sig: int = signal.SIGKILL) -> bool:
    """Ask for ``sig`` when the parent dies; exit now if it already has. False off Linux."""
    if not sys.platform.startswith('linux'):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent_pid:  # the parent died before prctl: nobody will signal us
        os._exit(1)
    return True


def _after_fork(hook: _DieWithParent) -> None:
    """In a forked child: die with the parent, and have this child's children die with it."""
    set_pdeathsig(hook.parent)
    hook.parent = os.getpid()  # this child's own children die with it (the registry is copied)


def die_with_parent() -> None:
    """Make the multiprocessing children (DataLoader workers, ...) of this process die with it.

    Idempotent; a child re-registers for its own children.
    """
    global _HOOK
    if _HOOK is not None and _HOOK.parent == os.getpid():
        return
    _HOOK = _DieWithParent(os.getpid())
    util.register_after_fork(_HOOK, _after_fork)
