"""tools/dist_point2rbox.sh on CPU: 2 gloo processes write the bytes of 1, a killed rank's run is
completed by a rerun of another size, and two independent runs share one folder (#24)."""

import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest

from mmpointsam.datasets import sample_point_labels

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
IMAGES = osp.join(DATA, 'images')

# MobileSAM's TinyViT at 256 px with random weights: the real architecture, small inputs
TINY_VIT_T = f"""
_base_ = [{osp.join(REPO, 'configs', 'sam_direct', 'sam-direct_mobilesam-vit-t_nwpu.py')!r}]
model = dict(data_preprocessor=dict(img_size=256), sam=dict(img_size=256, init_cfg=None))
"""


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('dist_p2r')
    cfg = tmp / 'tiny_vit_t.py'
    cfg.write_text(TINY_VIT_T)
    points = str(tmp / 'points.json')
    sample_point_labels(
        osp.join(DATA, 'annotations', 'val.json'), points, num_points=1, num_neg_points=0, seed=1
    )
    return str(cfg), points


def _convert(inputs, out, nproc=None, env=None, wait=True, extra=()):
    """tools/point2rbox.py in one plain process (nproc None) or dist_point2rbox.sh."""
    cfg, points = inputs
    args = [cfg, points, IMAGES, str(out), '--sam-checkpoint', 'none', *extra]
    if nproc is None:
        cmd = [sys.executable, osp.join(REPO, 'tools', 'point2rbox.py'), *args]
    else:
        cmd = ['bash', osp.join(REPO, 'tools', 'dist_point2rbox.sh'), *args[:4], str(nproc)]
        cmd += args[4:]
    # one thread per process in every run: the same arithmetic whatever the number of processes
    full_env = dict(
        os.environ,
        PORT=_free_port(),
        CUDA_VISIBLE_DEVICES='',
        OMP_NUM_THREADS='1',
        MMPOINTSAM_PYTHON=sys.executable,
        **(env or {}),
    )
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if not wait:
        return proc
    out_text, _ = proc.communicate(timeout=600)
    return proc.returncode, out_text


def _files(out):
    """labels.json and every DOTA txt, as bytes."""
    names = ['labels.json'] + [
        f'annfiles/{n}' for n in sorted(os.listdir(osp.join(out, 'annfiles')))
    ]
    return {n: open(osp.join(out, n), 'rb').read() for n in names}


def _done(out):
    """Images with a finished record."""
    folder = osp.join(out, '.progress')
    return sorted(n for n in os.listdir(folder) if re.fullmatch(r'\d+\.json', n))


@pytest.fixture(scope='module')
def reference(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp('ref') / 'out'
    rc, text = _convert(inputs, out)
    assert rc == 0, text[-4000:]
    return _files(str(out))


def test_two_processes_write_the_bytes_of_one(inputs, reference, tmp_path):
    out = tmp_path / 'out'
    # images decoded in a DataLoader worker of each rank
    rc, text = _convert(inputs, out, nproc=2, extra=('--workers', '1'))
    assert rc == 0, text[-4000:]
    assert 'on 2 processes, work per process' in text
    # rank 0 reports the run: both processes' images, each rank's share
    assert 'point2rbox: 2 processes: 4 images converted' in text
    assert re.search(r'per process \(rank: images in loop seconds\): 0: \d+ in [\d.]+ s, 1: ', text)
    assert _files(str(out)) == reference
    assert len(reference) == 5  # labels.json and 4 DOTA files


def test_a_killed_rank_leaves_done_images_and_any_rerun_completes(inputs, reference, tmp_path):
    out = tmp_path / 'out'
    # rank 1 dies (SIGKILL) after its first image; torchrun then stops rank 0
    rc, text = _convert(inputs, out, nproc=2, env=dict(MMPOINTSAM_P2R_KILL='1:1'))
    assert rc != 0
    done = _done(str(out))
    assert 1 <= len(done) < 4, text[-4000:]
    assert not osp.exists(out / 'labels.json')
    # rerun on another number of processes: only the rest is converted
    rc, text = _convert(inputs, out)
    assert rc == 0, text[-4000:]
    assert f'{4 - len(done)} images converted, {len(done)} skipped' in text
    assert _files(str(out)) == reference


def test_two_independent_runs_on_one_folder_share_the_images(inputs, reference, tmp_path):
    out = tmp_path / 'out'
    runs = [_convert(inputs, out, wait=False) for _ in range(2)]
    texts = [p.communicate(timeout=600)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], texts[0][-3000:] + texts[1][-3000:]
    converted = [int(re.search(r'(\d+) images converted', t).group(1)) for t in texts]
    assert sum(converted) == 4  # none twice, none lost
    assert _files(str(out)) == reference
