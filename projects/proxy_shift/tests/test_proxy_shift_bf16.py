"""proxy_shift.py --bf16-selftrain: the self-training row once more in bf16 (BF16OptimWrapper),
same seeds, beside the fp32 row (#17)."""

import json

from proxy_test_utils import load_tool, quick_args

from mmpointsam.engine.optimizers import BF16OptimWrapper


def test_bf16_selftrain_row_runs_beside_fp32_with_the_same_seed(tmp_path, monkeypatch):
    bench = load_tool('proxy_shift')
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
        [*quick_args(work), '--rows', 'selftrain', '--bf16-selftrain', '--num-points', '1']
    )
    assert '| Self-training |' in table and '| Self-training (bf16) |' in table
    results = json.load(open(work / 'results.json'))
    assert set(results['runs']) == {'Self-training|1|0', 'Self-training (bf16)|1|0'}
    assert len(contexts) == 2  # --quick: 2 stage-2 iterations, only the bf16 row's
    for metrics in results['runs'].values():
        assert 0.0 <= metrics['sam/mIoU'] <= 1.0
