"""A killed training leaves no DataLoader worker behind (PR_SET_PDEATHSIG in the workers, #13)."""

import os.path as osp
import signal
import subprocess
import sys
import time

import psutil  # a dependency of peft
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'

CONFIG = f"""
_base_ = [{osp.join(REPO, 'configs', 'supervised/supervised_sam-vit-b-lora_10e_nwpu.py')!r}]
model = dict(data_preprocessor=dict(img_size=256),
             sam=dict(arch='tiny', img_size=256, init_cfg=None, lora=dict(first_block=1)))
train_dataloader = dict(num_workers=2, persistent_workers=True,
                        dataset=dict(data_root={DATA!r}, ann_file='annotations/train.json'))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root={DATA!r}, ann_file='annotations/val.json'))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
"""


def _alive(procs):
    alive = []
    for p in procs:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.parametrize('sig', [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_a_killed_training(tmp_path, sig):
    cfg = tmp_path / 'workers.py'
    cfg.write_text(CONFIG)
    train = subprocess.Popen(
        [sys.executable, 'tools/train.py', str(cfg), '--work-dir', str(tmp_path / 'work')],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = []
    try:
        deadline = time.monotonic() + 180
        while len(workers) < 2 and time.monotonic() < deadline and train.poll() is None:
            time.sleep(0.5)
            workers = psutil.Process(train.pid).children(recursive=True)
        assert len(workers) >= 2, 'the training never started its DataLoader workers'
        train.send_signal(sig)
        train.wait(timeout=60)
        deadline = time.monotonic() + 10  # the kernel signals them at once; allow a loaded box
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(workers) == [], f'orphaned workers after {sig.name}'
    finally:
        if train.poll() is None:
            train.kill()
        for p in workers:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
