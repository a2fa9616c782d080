"""Claim files: one owner per item across processes, stale claims of dead owners taken over."""

import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time

from mmpointsam.fileio import WorkClaims
from mmpointsam.fileio.work_claims import UNREADABLE_STALE_S


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def _write(claims, key, **record):
    with open(claims.path(key), 'w') as f:
        json.dump(record, f)


def test_claim_records_owner_and_release_removes_only_own(tmp_path):
    claims = WorkClaims(str(tmp_path / 'c'))
    assert claims.claim(7) and claims.claim(7)  # held already: still ours
    record = claims.owner_of(7)
    assert record['host'] == socket.gethostname() and record['pid'] == os.getpid()
    claims.release(7)
    assert claims.owner_of(7) is None and not os.path.exists(claims.path(7))
    _write(claims, 8, host=socket.gethostname(), pid=1, start=None, time=time.time())
    claims.release(8)  # someone else's: left alone
    assert claims.owner_of(8)['pid'] == 1


def test_live_owner_blocks_dead_owner_is_taken_over(tmp_path):
    claims = WorkClaims(str(tmp_path))
    host = socket.gethostname()
    _write(claims, 'live', host=host, pid=1, start=None, time=time.time())  # init runs
    assert claims.held_by_others('live') and not claims.claim('live')
    _write(claims, 'dead', host=host, pid=_dead_pid(), start='1', time=time.time())
    assert not claims.held_by_others('dead')
    assert claims.claim('dead') and claims.owner_of('dead')['pid'] == os.getpid()
    # a pid that runs again, but as another process (its start time differs)
    _write(claims, 'reused', host=host, pid=1, start='-1', time=time.time())
    assert claims.claim('reused')
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.stale')]


def test_other_hosts_claims_go_stale_after_the_timeout(tmp_path):
    claims = WorkClaims(str(tmp_path), stale_after=60)
    _write(claims, 'fresh', host='node-7', pid=123, time=time.time() - 10)
    _write(claims, 'old', host='node-7', pid=123, time=time.time() - 120)
    assert not claims.claim('fresh') and claims.claim('old')
    never = WorkClaims(str(tmp_path / 'n'), stale_after=None)
    _write(never, 'old', host='node-7', pid=123, time=0)
    assert not never.claim('old')


def test_half_written_claim_is_waited_for_then_taken_over(tmp_path):
    claims = WorkClaims(str(tmp_path))
    open(claims.path('k'), 'w').close()  # created, its owner died before writing it
    assert not claims.claim('k')
    old = time.time() - UNREADABLE_STALE_S - 5
    os.utime(claims.path('k'), (old, old))
    assert claims.claim('k') and claims.owner_of('k')['pid'] == os.getpid()


def _claim_all(folder, keys, queue, finished):
    claims = WorkClaims(folder)
    queue.put([k for k in keys if claims.claim(k)])
    finished.wait(60)  # alive until all have tried: a dead owner's claims may be taken over


def test_concurrent_processes_claim_each_item_exactly_once(tmp_path):
    keys = list(range(40))
    ctx = mp.get_context('fork')
    queue, finished = ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_claim_all, args=(str(tmp_path), keys, queue, finished))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    got = [queue.get(timeout=60) for _ in procs]
    finished.set()
    for p in procs:
        p.join(timeout=60)
    flat = [k for g in got for k in g]
    assert sorted(flat) == keys  # every key once: no double claim, none lost
