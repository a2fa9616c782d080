"""tools/dist_train.sh and dist_test.sh on a CPU machine: torchrun, 2 gloo processes (#13)."""

import os
import os.path as osp
import re
import socket
import subprocess

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'

TINY_CONFIG = f"""
_base_ = [{osp.join(REPO, 'configs', 'supervised/supervised_sam-vit-b-lora_10e_nwpu.py')!r}]
model = dict(data_preprocessor=dict(img_size=256),
             sam=dict(arch='tiny', img_size=256, init_cfg=None, lora=dict(first_block=1)))
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={DATA!r}, ann_file='annotations/train.json'))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(data_root={DATA!r}, ann_file='annotations/val.json'))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1))
"""


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _run(script, *args):
    env = dict(os.environ, PORT=_free_port(), CUDA_VISIBLE_DEVICES='')
    return subprocess.run(
        ['bash', osp.join(REPO, 'tools', script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_two_cpu_processes_train_validate_save_then_test(tmp_path):
    cfg = tmp_path / 'tiny_dist.py'
    cfg.write_text(TINY_CONFIG)
    work = tmp_path / 'train'
    proc = _run('dist_train.sh', str(cfg), '2', '--work-dir', str(work))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    # 4 training images, batch 1, 2 processes: 2 iterations each
    assert 'Epoch(train) [1][2/2]' in out and 'Epoch(train) [1][3/' not in out
    assert re.search(r'Epoch\(val\).*sam/num_images: 4 ', out)  # results gathered over ranks
    assert (work / 'epoch_1.pth').is_file()
    state = torch.load(str(work / 'epoch_1.pth'), weights_only=False)['state_dict']
    assert not any(k.startswith('module.') for k in state)

    proc = _run(
        'dist_test.sh',
        str(cfg),
        str(work / 'epoch_1.pth'),
        '2',
        '--work-dir',
        str(tmp_path / 'test'),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f'loaded {work / "epoch_1.pth"} strictly' in out
    assert re.search(r'Epoch\(test\).*sam/num_images: 4 ', out)
