"""tools/benchmark/speed.py runs with the default PointSAM config: a shortened iteration step on
the tiny architecture (the benchmark broke twice when the default teacher changed)."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED_NWPU = osp.join(osp.dirname(REPO), 'shared', 'data', 'nwpu_vhr10')


@pytest.mark.skipif(
    not osp.isfile(osp.join(SHARED_NWPU, 'annotations', 'NWPU_instances_train.json')),
    reason='real NWPU at ../shared/data/nwpu_vhr10',
)
def test_iteration_step_times_teacher_npc_and_student_decodes():
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'benchmark', 'speed.py'),
        '--child',
        'iteration',
        '--arch',
        'tiny',
        '--objects',
        'slope',
        '--max-instances',
        '5',
        '--reps',
        '1',
        '--data-root',
        SHARED_NWPU,
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (result['objects_one'], result['objects_many']) == (1, 5)
    # the default (averaged) teacher decodes through the student's module, so it is timed
    assert result['teacher_decode_one'] > 0 and result['teacher_decode_many'] > 0
    assert result['student_decode_fwd_many'] > 0 and result['npc_prompts_many'] >= 0
