"""Environment report: what is installed, what it can run, and what to do about it.

``python tools/collect_env.py`` (or ``python -m mmpointsam.utils.collect_env``) prints Python,
torch and its CUDA, the GPUs, each OpenMMLab package against the tested stack, and whether
mmcv's ops have CUDA kernels that run here, which stock MMRotate detectors need on GPU
(``nms_rotated``, ``box_iou_rotated``). ``--check`` exits 1 when something listed under
"problems" stands in the way.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
from collections import OrderedDict
from typing import List, Tuple

from .stack import SUPPORTED_PYTHON, TESTED_STACK, installed_version, stack_mismatches

# the oldest NVIDIA driver each CUDA major version runs on (Linux, CUDA's release notes)
MIN_DRIVER = {12: 525, 13: 580}


def _run(cmd: List[str]) -> str:
    """A command's stdout, or '' when it cannot run."""
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


def _nvidia_smi() -> List[Tuple[str, str, str]]:
    """(name, compute capability, driver) of each GPU nvidia-smi lists; [] without one."""
    if shutil.which('nvidia-smi') is None:
        return []
    out = _run(
        ['nvidia-smi', '--query-gpu=name,compute_cap,driver_version', '--format=csv,noheader']
    )
    return [
        tuple(part.strip() for part in line.split(','))
        for line in out.splitlines()
        if line.count(',') == 2
    ]


def mmcv_ops_status() -> Tuple[str, str]:
    """(what mmcv's compiled ops were built with, a problem or '')."""
    try:
        from mmcv.ops import get_compiler_version, get_compiling_cuda_version
    except Exception as exc:  # ImportError, undefined symbols of a mismatched build
        return 'not loadable', (
            f'mmcv.ops does not load ({type(exc).__name__}: {exc}); mmcv '
            'was built for another torch or without ops: run `make install`'
        )
    cuda = get_compiling_cuda_version()
    built = f'{get_compiler_version()}, CUDA {cuda}'
    return built, ''


def mmcv_cuda_op_check() -> str:
    """Run ``nms_rotated`` on the GPU; '' when it works, else the error."""
    import torch
    from mmcv.ops import nms_rotated

    boxes = torch.tensor(
        [[10.0, 10.0, 8.0, 4.0, 0.3], [10.5, 10.0, 8.0, 4.0, 0.3], [40.0, 40.0, 6.0, 6.0, 0.0]],
        device='cuda',
    )
    scores = torch.tensor([0.9, 0.8, 0.7], device='cuda')
    try:
        _, keep = nms_rotated(boxes, scores, 0.5)
        torch.cuda.synchronize()
    except Exception as exc:  # "no kernel image", "not compiled with GPU support", ...
        return f'{type(exc).__name__}: {str(exc).splitlines()[0]}'
    if sorted(keep.tolist()) != [0, 2]:
        return f'nms_rotated on CUDA kept {keep.tolist()}, expected [0, 2]'
    return ''


def _python_rows(info: dict, problems: List[str]) -> None:
    """Platform, Python (a problem outside the supported versions) and the machine."""
    info['sys.platform'] = sys.platform
    info['Python'] = sys.version.replace('\n', ' ')
    lo, hi = SUPPORTED_PYTHON
    if not lo <= sys.version_info[:2] <= hi:
        problems.append(
            f'Python {platform.python_version()} is outside the supported '
            f'{lo[0]}.{lo[1]}-{hi[0]}.{hi[1]}.'
        )
    info['machine'] = f'{platform.machine()}, {os.cpu_count()} CPUs'


def _gpu_problem(torch, gpus: list) -> str:
    """Why torch sees no GPU that nvidia-smi lists: CPU-only torch, an old driver, or hidden."""
    driver = gpus[0][2]
    need = MIN_DRIVER.get(int((torch.version.cuda or '0').split('.')[0]))
    if torch.version.cuda is None:
        return (
            'A GPU is present but torch is a CPU-only build: install the '
            'pinned torch (`make install`).'
        )
    if need and int(driver.split('.')[0]) < need:
        return (
            f'A GPU is present but torch (CUDA {torch.version.cuda}) needs an '
            f'NVIDIA driver >= {need}; this one is {driver}. Update the driver.'
        )
    return (
        'A GPU is present but torch.cuda.is_available() is False '
        '(CUDA_VISIBLE_DEVICES? container without GPU access?).'
    )


def _torch_rows(info: dict, problems: List[str]) -> bool:
    """torch, its CUDA build, the GPUs, cuDNN and nvcc; returns whether CUDA is usable."""
    import torch

    info['PyTorch'] = torch.__version__
    info['PyTorch CUDA build'] = torch.version.cuda or 'none (CPU-only torch)'
    gpus = _nvidia_smi()
    info['GPUs (nvidia-smi)'] = (
        '; '.join(f'{n} (sm_{c.replace(".", "")}, driver {d})' for n, c, d in gpus) or 'none'
    )
    cuda_ok = torch.cuda.is_available()
    info['torch.cuda.is_available'] = str(cuda_ok)
    if cuda_ok:
        info['cuDNN'] = str(torch.backends.cudnn.version())
    home = os.environ.get('CUDA_HOME')
    nvcc = os.path.join(home, 'bin', 'nvcc') if home else shutil.which('nvcc')
    release = [
        line
        for line in (_run([nvcc, '--version']) if nvcc else '').splitlines()
        if 'release' in line
    ]
    info['nvcc'] = (
        f'{nvcc}: {release[0]}' if release else 'none (only needed to build mmcv with CUDA ops)'
    )
    if gpus and not cuda_ok:
        problems.append(_gpu_problem(torch, gpus))
    return cuda_ok


def _stack_rows(info: dict, problems: List[str]) -> None:
    """The installed version of each package of the tested stack; each mismatch a problem."""
    for dist in TESTED_STACK:
        if dist == 'torch':
            continue
        have = installed_version(dist)
        info[dist] = have + (
            '' if have == TESTED_STACK[dist] else f'  <-- tested: {TESTED_STACK[dist]}'
        )
    for line in stack_mismatches():
        problems.append(f'Untested version: {line}. `make install` installs the tested stack.')


def _mmcv_ops_rows(info: dict, problems: List[str], cuda_ok: bool) -> None:
    """How mmcv's ops were built, and whether its CUDA ops run on this GPU."""
    import torch

    built, problem = mmcv_ops_status()
    info['mmcv ops built with'] = built
    if problem:
        problems.append(problem)
        return
    if not cuda_ok:
        info['mmcv CUDA ops'] = (
            'built, no GPU to run them'
            if not built.endswith('not available')
            else 'none (CPU machine: everything runs on CPU)'
        )
        return
    cap = '.'.join(str(v) for v in torch.cuda.get_device_capability())
    if built.endswith('not available'):
        problems.append(
            'Rotated detectors will not run on GPU: mmcv was built without CUDA ops. '
            f'Rebuild with `MMPOINTSAM_CUDA=1 TORCH_CUDA_ARCH_LIST={cap} make install`.'
        )
        info['mmcv CUDA ops'] = 'none'
        return
    error = mmcv_cuda_op_check()
    info['mmcv CUDA ops'] = (
        'nms_rotated runs on ' + torch.cuda.get_device_name() if not error else f'FAIL: {error}'
    )
    if error:
        problems.append(
            f'mmcv CUDA ops fail on this GPU ({error}); rebuild for it with '
            f'`MMPOINTSAM_CUDA=1 TORCH_CUDA_ARCH_LIST={cap} make install`.'
        )


def collect_env() -> Tuple['OrderedDict[str, str]', List[str]]:
    """The report's rows and its problems (each a sentence saying what to do)."""
    info: 'OrderedDict[str, str]' = OrderedDict()
    problems: List[str] = []
    _python_rows(info, problems)
    cuda_ok = _torch_rows(info, problems)
    _stack_rows(info, problems)
    _mmcv_ops_rows(info, problems, cuda_ok)
    try:
        import mmpointsam

        info['mmpointsam'] = (
            f'{mmpointsam.__version__} ({os.path.dirname(os.path.abspath(mmpointsam.__file__))})'
        )
    except Exception as exc:  # pragma: no cover - reported, not raised
        problems.append(f'mmpointsam does not import: {exc}')
    return info, problems


def main(argv=None) -> int:
    """Print the report; with --check, exit 1 when it lists problems."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--check', action='store_true', help='exit 1 when the report lists problems'
    )
    args = parser.parse_args(argv)
    info, problems = collect_env()
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f'{key:<{width}} : {value}')
    print()
    if problems:
        print('Problems:')
        for p in problems:
            print(f'  - {p}')
    else:
        gpu = info.get('mmcv CUDA ops', '')
        print(
            'OK: the tested stack is installed; '
            + (
                'stock MMRotate detectors run on this GPU.'
                if gpu.startswith('nms_rotated runs')
                else 'everything runs on CPU here.'
            )
        )
    return 1 if (problems and args.check) else 0


if __name__ == '__main__':
    sys.exit(main())
