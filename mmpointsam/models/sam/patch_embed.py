"""segment-anything's ViT patch embedding as one matrix multiply over the image's patches.

``PatchEmbed`` is a convolution whose kernel equals its stride, followed by a permute to
(B, H, W, C) that leaves the tokens channels-first in memory. Two costs follow on CPU: oneDNN
runs that convolution slowly under bf16 autocast (a single 16 x 16 x 3 -> 768 layer took about
as long as two ViT-B blocks), and every residual add and layer norm of the blocks after it runs
on the strided layout. Cutting the image into patches and applying the same weights as a linear
layer is the same sum of products, and it yields contiguous (B, H, W, C) tokens.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchifyEmbed(nn.Module):
    """Drop-in for segment-anything's ``PatchEmbed`` (same ``proj`` convolution, so the same
    state-dict keys) computing non-overlapping patches with ``F.linear``."""

    def __init__(self, proj: nn.Conv2d) -> None:
        super().__init__()
        if tuple(proj.kernel_size) != tuple(proj.stride) or any(proj.padding):
            raise ValueError(
                'PatchifyEmbed needs a convolution with kernel == stride and no padding, got '
                f'kernel {proj.kernel_size}, stride {proj.stride}, padding {proj.padding}'
            )
        self.proj = proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) image -> (B, H / p, W / p, embed_dim) contiguous tokens."""
        B, C, H, W = x.shape
        ph, pw = self.proj.kernel_size
        if H % ph or W % pw:  # the convolution would drop the remainder: keep its semantics
            x = x[:, :, : H - H % ph, : W - W % pw]
            H, W = x.shape[-2:]
        patches = x.reshape(B, C, H // ph, ph, W // pw, pw).permute(0, 2, 4, 1, 3, 5)
        patches = patches.reshape(B, H // ph, W // pw, C * ph * pw)
        weight = self.proj.weight.reshape(self.proj.out_channels, -1)
        return F.linear(patches, weight, self.proj.bias)
