"""proxy_shift.py --bf16-selftrain: the self-training row once more in bf16 (BF16OptimWrapper),
same seeds, beside the fp32 row (#17)."""

import importlib.util
import json
import os.path as osp

from mmpointsam.engine.optimizers import BF16OptimWrapper

PROJECT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(osp.dirname(PROJECT))
NWPU = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'


def _bench():
    spec = importlib.util.spec_from_file_location(
        'proxy_shift', osp.join(PROJECT, 'tools', 'proxy_shift.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bf16_selftrain_row_runs_beside_fp32_with_the_same_seed(tmp_path, monkeypatch):
    bench = _bench()
    assert 'selftrain_bf16' not in bench.parse_args([]).rows  # off by default
    assert bench.parse_args(['--bf16-selftrain']).rows[1:3] == ['selftrain', 'selftrain_bf16']
    contexts = []
    optim_context = BF16OptimWrapper.optim_context

    def counting_optim_context(self, model):
        contexts.append(type(self).__name__)
        return optim_context(self, model)

    monkeypatch.setattr(BF16OptimWrapper, 'optim_context', counting_optim_context)
    work = tmp_path / 'bench'
    table = bench.main(
        [
            '--quick',
            '--work-dir',
            str(work),
            '--nwpu-root',
            NWPU.rstrip('/'),
            '--train-ann',
            'annotations/train.json',
            '--test-ann',
            'annotations/val.json',
            '--val-ratio',
            '0',
            '--rows',
            'selftrain',
            '--bf16-selftrain',
            '--num-points',
            '1',
        ]
    )
    assert '| Self-training |' in table and '| Self-training (bf16) |' in table
    results = json.load(open(work / 'results.json'))
    assert set(results['runs']) == {'Self-training|1|0', 'Self-training (bf16)|1|0'}
    assert len(contexts) == 2  # --quick: 2 stage-2 iterations, only the bf16 row's
    for metrics in results['runs'].values():
        assert 0.0 <= metrics['sam/mIoU'] <= 1.0
