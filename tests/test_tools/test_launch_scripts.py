"""tools/dist_*.sh and tools/slurm_*.sh (through tools/_launch.sh): the exact torchrun and srun
command lines they run, recorded by a fake python and srun in a scratch copy of the repository."""

import os
import os.path as osp
import subprocess

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RECORD = """#!/usr/bin/env bash
{ echo "$(basename "$0") PYTHONPATH=$PYTHONPATH"; printf '%s\\n' "$@"; } > "$ARGV_LOG"
"""
TORCHRUN = ['-m', 'torch.distributed.run']
SRUN = ['--kill-on-bad-exit=1']


def launch(tmp_path, script, *args, env=None, venv=True):
    """Runs tools/SCRIPT from a scratch root holding it and tools/_launch.sh, whose python
    (.venv/bin/python, or else the PATH's) and srun record their arguments: (root, lines)."""
    root = tmp_path / 'root'
    (root / 'tools').mkdir(parents=True, exist_ok=True)
    for name in ('_launch.sh', script):
        (root / 'tools' / name).write_text(open(osp.join(REPO, 'tools', name)).read())
    fakes = [root / 'bin' / 'python', root / 'bin' / 'srun']
    if venv:
        fakes.append(root / '.venv' / 'bin' / 'python')
    for fake in fakes:
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_text(RECORD)
        fake.chmod(0o755)
    unset = ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT', 'GPUS', 'SRUN_ARGS', 'MMPOINTSAM_PYTHON')
    full_env = {k: v for k, v in os.environ.items() if k not in unset}
    log = tmp_path / 'argv.txt'
    full_env.update(PATH=f'{root / "bin"}:/usr/bin:/bin', PYTHONPATH='', ARGV_LOG=str(log))
    proc = subprocess.run(
        ['bash', f'tools/{script}', *args],
        cwd=root,
        env=dict(full_env, **(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return str(root), log.read_text().splitlines()


def torchrun(nproc, nnodes=1, node_rank=0, addr='127.0.0.1', port=29500):
    """torch.distributed.run's options as the dist scripts pass them."""
    return TORCHRUN + [
        f'--nnodes={nnodes}',
        f'--node_rank={node_rank}',
        f'--master_addr={addr}',
        f'--nproc_per_node={nproc}',
        f'--master_port={port}',
    ]


def test_dist_train_runs_torchrun_with_the_venv_python(tmp_path):
    root, lines = launch(tmp_path, 'dist_train.sh', 'a b.py', '2', '--work-dir', 'w d')
    assert lines[0] == f'python PYTHONPATH={root}:'  # the venv's python, the root on the path
    assert lines[1:] == torchrun(2) + [
        f'{root}/tools/train.py',
        'a b.py',
        '--launcher',
        'pytorch',
        '--work-dir',
        'w d',
    ]


def test_dist_test_checkpoint_none_and_the_path_python(tmp_path):
    # "none": the weights the config names; without a venv the PATH's python
    root, lines = launch(tmp_path, 'dist_test.sh', 'c.py', 'none', '3', '--tta', venv=False)
    assert lines[0] == f'python PYTHONPATH={root}:'
    tail = ['c.py', '--launcher', 'pytorch', '--tta']
    assert lines[1:] == torchrun(3) + [f'{root}/tools/test.py', *tail]
    lines = launch(tmp_path, 'dist_test.sh', 'c.py', 'ck.pth', '2')[1]
    assert lines[-4:] == ['c.py', 'ck.pth', '--launcher', 'pytorch']


def test_dist_point2rbox_on_two_nodes_with_another_python(tmp_path):
    other = tmp_path / 'other_python'
    other.write_text(RECORD.replace('$(basename "$0")', 'other'))
    other.chmod(0o755)
    env = dict(NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.1', PORT='1234')
    env['MMPOINTSAM_PYTHON'] = str(other)
    args = ('c.py', 'p.json', 'imgs', 'out', '4', '--sam-checkpoint', 'none')
    root, lines = launch(tmp_path, 'dist_point2rbox.sh', *args, env=env)
    assert lines[0] == f'other PYTHONPATH={root}:'
    assert lines[1:] == torchrun(4, 2, 1, '10.0.0.1', 1234) + [
        f'{root}/tools/point2rbox.py',
        *args[:4],
        '--launcher',
        'pytorch',
        '--sam-checkpoint',
        'none',
    ]


def srun(partition, job, gpus=8, per_node=8, cpus=5, extra=()):
    """srun's options as MMDetection's slurm scripts pass them, then `python -u`."""
    return [
        '-p',
        partition,
        f'--job-name={job}',
        f'--gres=gpu:{per_node}',
        f'--ntasks={gpus}',
        f'--ntasks-per-node={per_node}',
        f'--cpus-per-task={cpus}',
        *SRUN,
        *extra,
        'python',
        '-u',
    ]


def test_slurm_scripts_run_srun_from_the_repository_root(tmp_path):
    _, lines = launch(tmp_path, 'slurm_train.sh', 'part', 'job', 'c.py', 'wd', '--resume')
    assert lines[0] == 'srun PYTHONPATH=tools/..:'
    assert lines[1:] == srun('part', 'job') + [
        'tools/train.py',
        'c.py',
        '--work-dir=wd',
        '--launcher=slurm',
        '--resume',
    ]
    env = dict(GPUS='16', GPUS_PER_NODE='4', CPUS_PER_TASK='2', SRUN_ARGS='--qos high')
    lines = launch(tmp_path, 'slurm_test.sh', 'part', 'job', 'c.py', 'none', env=env)[1]
    assert lines[1:] == srun('part', 'job', 16, 4, 2, ('--qos', 'high')) + [
        'tools/test.py',
        'c.py',
        '--launcher=slurm',
    ]
    lines = launch(tmp_path, 'slurm_test.sh', 'part', 'job', 'c.py', 'ck.pth')[1]
    assert lines[-3:] == ['c.py', 'ck.pth', '--launcher=slurm']
    args = ('c.py', 'p.json', 'imgs', 'out')
    lines = launch(tmp_path, 'slurm_point2rbox.sh', 'part', 'job', *args, '-x', '1')[1]
    assert lines[1:] == srun('part', 'job') + [
        'tools/point2rbox.py',
        *args,
        '--device',
        'cuda',
        '--launcher=slurm',
        '-x',
        '1',
    ]
