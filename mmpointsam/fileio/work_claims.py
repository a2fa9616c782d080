"""Claim files: several processes or independent runs share one output folder without doing an
item twice.

A claim is a small json file created with ``O_CREAT | O_EXCL`` (atomic on local and NFSv3+
file systems: exactly one creator wins) holding its owner's host, pid, process start time and
claim time. The owner removes it when the item is done. A claim whose owner is gone is stale and
may be taken over: on the same host when the pid no longer runs (or runs another process: its
start time differs), on another host when the claim is older than ``stale_after`` seconds (a
process elsewhere cannot be asked). Taking over renames the stale file away first, so of two
runs that judge it stale at once only one gets it.
"""

import contextlib
import json
import os
import os.path as osp
import socket
import time
import uuid
from typing import Optional

# an empty or half-written claim older than this is abandoned (it takes microseconds to write)
UNREADABLE_STALE_S = 60.0


def _read_claim(path: str) -> Optional[dict]:
    """A claim file's record; ``{'unreadable': mtime}`` while it is empty or half written; None
    when there is no such file."""
    try:
        with open(path) as f:
            text = f.read()
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return dict(unreadable=mtime)


def _start_time(pid: int) -> Optional[str]:
    """The start time of process ``pid`` (clock ticks since boot, Linux), None if unknown."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: fields are counted after its ')'
    return stat.rsplit(')', 1)[1].split()[19]


def _pid_runs(pid: int) -> bool:
    """True when a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class WorkClaims:
    """Atomic per-item claim files in ``claim_dir``.

    Args:
        claim_dir: folder of the claim files (created).
        stale_after: seconds after which a claim of another host counts as abandoned; None: never
            (only the same host's dead owners are detected).
    """

    def __init__(self, claim_dir: str, stale_after: Optional[float] = 24 * 3600) -> None:
        self.claim_dir = claim_dir
        self.stale_after = stale_after
        os.makedirs(claim_dir, exist_ok=True)
        self.owner = dict(
            host=socket.gethostname(), pid=os.getpid(), start=_start_time(os.getpid())
        )

    def path(self, key) -> str:
        """The claim file of ``key``."""
        return osp.join(self.claim_dir, f'{key}.claim')

    def owner_of(self, key) -> Optional[dict]:
        """The claim record of ``key`` (host, pid, start, time); None when unclaimed."""
        return _read_claim(self.path(key))

    def is_stale(self, record: dict) -> bool:
        """True when the owner of ``record`` is gone (see the module's docstring)."""
        if 'unreadable' in record:  # its creator died between creating and writing it
            return time.time() - record['unreadable'] > UNREADABLE_STALE_S
        if record.get('host') == self.owner['host']:
            pid = int(record.get('pid', -1))
            if pid == os.getpid():
                return record.get('start') != self.owner['start']
            if pid <= 0 or not _pid_runs(pid):
                return True
            start = _start_time(pid)
            return start is not None and record.get('start') not in (None, start)
        if self.stale_after is None:
            return False
        return time.time() - float(record.get('time', 0)) > self.stale_after

    def claim(self, key) -> bool:
        """Claim ``key``; True when this process holds it now (also when it did already)."""
        path = self.path(key)
        record = dict(self.owner, time=time.time())
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return self._take_over(key)
        with os.fdopen(fd, 'w') as f:
            json.dump(record, f)
        return True

    def _take_over(self, key) -> bool:
        """Claim ``key`` held by someone else if, and only if, that claim is stale."""
        current = self.owner_of(key)
        if current is None:
            return self.claim(key)  # released meanwhile: try again
        if self._is_mine(current):
            return True
        if not self.is_stale(current):
            return False
        tomb = f'{self.path(key)}.{uuid.uuid4().hex}.stale'
        try:
            os.rename(self.path(key), tomb)
        except FileNotFoundError:
            return False  # another run took it over (or its owner released it) first
        if _read_claim(tomb) != current:
            # between reading and renaming, someone else replaced the stale claim with a live
            # one: put it back (link fails if yet another claim appeared; then it is theirs)
            with contextlib.suppress(FileExistsError):
                os.link(tomb, self.path(key))
            os.remove(tomb)
            return False
        os.remove(tomb)
        return self.claim(key)

    def _is_mine(self, record: dict) -> bool:
        """True when ``record`` is this process's claim."""
        return all(record.get(k) == v for k, v in self.owner.items())

    def release(self, key) -> None:
        """Drop this process's claim of ``key`` (nothing if it holds none)."""
        record = self.owner_of(key)
        if record is not None and self._is_mine(record):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path(key))

    def held_by_others(self, key) -> bool:
        """True when a live owner other than this process claims ``key``."""
        record = self.owner_of(key)
        return record is not None and not self._is_mine(record) and not self.is_stale(record)
