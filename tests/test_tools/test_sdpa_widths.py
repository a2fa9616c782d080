"""tools/benchmark/sdpa_widths.py prints one row per dtype with a time per width and the mask."""

import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_prints_a_row_per_dtype_with_every_width():
    script = osp.join(ROOT, 'tools', 'benchmark', 'sdpa_widths.py')
    args = ['--heads', '2', '--tokens', '16', '--widths', '8', '24', '--reps', '1']
    out = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=True
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith('| float') or 'bfloat16' in line]
    assert [r.split('|')[1].strip() for r in rows] == ['float32', 'bfloat16']
    header = next(line for line in out.splitlines() if line.startswith('| dtype'))
    assert 'width 8' in header and 'width 24' in header and 'width 64 + mask' in header
    for row in rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert len(cells) == 4 and all(c.endswith(' ms') for c in cells[1:])
