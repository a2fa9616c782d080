"""bf16 mixed-precision training on CPU and GPU: ``optim_wrapper.type='BF16OptimWrapper'``.

MMEngine's ``AmpOptimWrapper`` refuses a CPU (it asserts a GPU) and brings a loss scaler that
bf16 does not need (bfloat16 has float32's exponent range, so gradients neither underflow nor
overflow where fp32's would not). This wrapper only opens ``torch.autocast(bfloat16)`` around
the model's forward, where the Runner's ``train_step`` computes the losses (the teacher's no-grad
pass, NPC, the student's LoRA forward and its chunked decoder backward all run there). Weights,
gradients and optimizer state stay float32; the segmentor casts the encoder's and decoder's
outputs to float32 and computes its losses with autocast off.
"""

from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmpointsam.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs the forward under bfloat16 autocast on the
    model's device (CPU or CUDA); backward, step and state dicts are ``OptimWrapper``'s."""

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The forward under bf16 autocast on the model's device type."""
        param = next(model.parameters(), None)
        device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(device_type, dtype=torch.bfloat16):
            yield
