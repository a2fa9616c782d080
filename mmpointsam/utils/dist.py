"""Distributed launches (``torchrun`` / ``--launcher pytorch``) on machines without CUDA.

MMEngine's ``init_dist`` for the pytorch launcher always calls ``torch.cuda.set_device`` and the
configs ask for NCCL, so a CPU launch stops before training. Without CUDA this module starts the
gloo process group itself (MMEngine then finds it initialised and skips ``init_dist``) and wraps
the model in DDP without device ids. With CUDA nothing changes.
"""

import atexit

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` and the process group for a CPU launch; True when it did something."""
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return False
    if cfg.launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {cfg.launcher} needs CUDA on this machine; without CUDA '
            'launch with torchrun (--launcher pytorch, tools/dist_train.sh)'
        )
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'gloo') != 'gloo':
        print_log(f'no CUDA: distributed backend {dist_cfg["backend"]!r} -> gloo', logger='current')
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        kwargs = {k: v for k, v in dist_cfg.items() if k not in ('backend', 'init_backend')}
        torch_dist.init_process_group(backend='gloo', **kwargs)
        # tear the group down before the interpreter exits: left to static destruction, gloo's
        # threads can be destroyed while joinable and abort the process after a finished run
        # ("terminate called without an active exception")
        atexit.register(_destroy_process_group)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False),
    )
    wrapper['device_ids'] = None  # a CPU module: DDP takes no device ids
    cfg.model_wrapper_cfg = wrapper
    return True


def init_gloo_process_group(**kwargs) -> None:
    """Start a gloo process group from torchrun's environment (CPU processes; ``kwargs`` go to
    ``init_process_group``, e.g. ``timeout``), torn down at exit."""
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo', **kwargs)
        atexit.register(_destroy_process_group)


def _destroy_process_group() -> None:
    """Tear down the process group at exit, if one was started."""
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()
