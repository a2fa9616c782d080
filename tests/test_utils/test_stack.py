"""The tested-stack pins, the runtime check and the environment report."""

import os.path as osp
import re

import pytest

from mmpointsam.utils import collect_env as collect_env_module
from mmpointsam.utils import stack
from mmpointsam.utils.collect_env import collect_env, main

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _pins(path):
    pins = {}
    for line in open(path):
        m = re.match(r'^([A-Za-z0-9_.-]+)==([^\s#]+)', line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_requirements_pin_the_tested_stack():
    pins = _pins(osp.join(REPO, 'requirements', 'runtime.txt'))
    install = open(osp.join(REPO, 'tools', 'install.sh')).read()
    mmcv = re.search(r'^MMCV_VERSION=(\S+)$', install, re.M).group(1)
    for dist, version in stack.TESTED_STACK.items():
        assert (mmcv if dist == 'mmcv' else pins[dist]) == version, dist


def test_this_environment_is_the_tested_stack():
    assert stack.stack_mismatches() == []
    stack.check_stack()  # no raise


def test_mismatch_fails_loudly_and_can_be_overridden(monkeypatch):
    real = stack.installed_version
    monkeypatch.setattr(stack, 'installed_version', lambda d: '1.26.4' if d == 'numpy' else real(d))
    monkeypatch.delenv(stack.OPT_OUT, raising=False)
    with pytest.raises(RuntimeError, match=r'numpy 1\.26\.4 \(tested: 2\.2\.6\)'):
        stack.check_stack()
    monkeypatch.setenv(stack.OPT_OUT, '1')
    stack.check_stack()


def test_report_on_this_cpu_machine(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip('a GPU machine: tests/test_gpu checks the report there')
    info, problems = collect_env()
    assert problems == []
    assert info['mmcv'] == stack.TESTED_STACK['mmcv']
    cpu_only = info['mmcv ops built with'].endswith('CUDA not available')
    assert info['mmcv CUDA ops'] == (
        'none (CPU machine: everything runs on CPU)' if cpu_only else 'built, no GPU to run them'
    )
    assert main(['--check']) == 0
    out = capsys.readouterr().out
    assert 'everything runs on CPU here' in out and 'PyTorch' in out


def test_report_says_what_to_do_on_a_gpu_without_cuda_ops(monkeypatch, capsys):
    """A GPU that torch sees and an mmcv without CUDA kernels: the rotated detectors can't run."""
    import torch

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda *a: (9, 0))
    monkeypatch.setattr(
        collect_env_module, '_nvidia_smi', lambda: [('NVIDIA H200', '9.0', '580.65')]
    )
    monkeypatch.setattr(torch.backends.cudnn, 'version', lambda: 91900)
    monkeypatch.setattr(
        collect_env_module, 'mmcv_ops_status', lambda: ('GCC 12.2, CUDA not available', '')
    )
    info, problems = collect_env()
    assert info['mmcv CUDA ops'] == 'none'
    assert any(
        'Rotated detectors will not run on GPU' in p
        and 'MMPOINTSAM_CUDA=1 TORCH_CUDA_ARCH_LIST=9.0 make install' in p
        for p in problems
    )
    assert main(['--check']) == 1


def test_report_names_an_old_driver(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.version, 'cuda', '13.0')
    monkeypatch.setattr(collect_env_module, '_nvidia_smi', lambda: [('Tesla T4', '7.5', '535.104')])
    _, problems = collect_env()
    assert any('driver >= 580' in p and '535.104' in p for p in problems)
