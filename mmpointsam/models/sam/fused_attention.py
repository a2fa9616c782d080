"""segment-anything's ViT attention as one ``F.scaled_dot_product_attention`` call, exactly.

SAM's attention adds a decomposed relative-position term to the scores,
``S = scale * q k^T + rel_h[q, k_row] + rel_w[q, k_col]``, and writes out (B * heads, N, N)
score and probability matrices (12 x 4096 x 4096 per image in a global block at 1024 px).
Here the term is folded into the dot product: with ``q' = [scale * q, rel_h, rel_w]`` and
``k' = [k, onehot(k_row), onehot(k_col)]``, ``q' . k'`` is that score (each one-hot picks one
term; every other added product is an exact zero), so SDPA runs without a mask. Its fused
kernels (flash on CPU and CUDA) then hold no (N, N) matrix in the forward or the backward, and
autograd takes gradients to q, k, v and the rel-pos tables. Timings: docs/en/benchmarks.md.

:func:`fuse_vit_attention` swaps the blocks' attention at build time; the new module reuses the
old one's ``qkv``, ``proj``, ``rel_pos_h`` and ``rel_pos_w``, so state dicts keep their keys and
official checkpoints load strictly. LoRA's :class:`~.lora.SplitQKV` replaces ``qkv`` as before.
"""

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from segment_anything.modeling.image_encoder import get_rel_pos

ATTENTION_MODES = ('fused', 'reference')
# The folded width is padded with zeros to a multiple of this: CPU's flash kernel ran a ViT-B
# window (64 + 14 + 14 = 92 wide) 1.3x faster at 96 in bf16, and CUDA's kernels want it too.
WIDTH_MULTIPLE = 8


def decomposed_rel_pos(
    q: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
    q_size: Tuple[int, int],
    k_size: Tuple[int, int],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The two terms of segment-anything's ``add_decomposed_rel_pos``, not yet broadcast.

    Args:
        q: (G, q_h * q_w, C) queries (unscaled, as segment-anything uses them).

    Returns:
        ``rel_h`` (G, q_h * q_w, k_h) and ``rel_w`` (G, q_h * q_w, k_w): the score of query i and
        key (y, x) gets ``rel_h[:, i, y] + rel_w[:, i, x]``.
    """
    q_h, q_w = q_size
    k_h, k_w = k_size
    Rh = get_rel_pos(q_h, k_h, rel_pos_h)
    Rw = get_rel_pos(q_w, k_w, rel_pos_w)
    G, _, dim = q.shape
    r_q = q.reshape(G, q_h, q_w, dim)
    rel_h = torch.einsum('bhwc,hkc->bhwk', r_q, Rh).reshape(G, q_h * q_w, k_h)
    rel_w = torch.einsum('bhwc,wkc->bhwk', r_q, Rw).reshape(G, q_h * q_w, k_w)
    return rel_h, rel_w


def key_grid_onehot(k_h: int, k_w: int, dtype: torch.dtype, device) -> torch.Tensor:
    """(k_h * k_w, k_h + k_w): row-major key (y, x) -> ``[onehot(y), onehot(x)]``."""
    index = torch.arange(k_h * k_w, device=device)
    onehot = torch.zeros(k_h * k_w, k_h + k_w, dtype=dtype, device=device)
    onehot[index, index // k_w] = 1
    onehot[index, k_h + index % k_w] = 1
    return onehot


def rel_pos_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    rel_h: torch.Tensor,
    rel_w: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """``softmax(scale * q k^T + rel_h[:, :, y] + rel_w[:, :, x]) v`` over keys (y, x).

    q, k, v are (G, N, C) (G = batch x heads), keys in row-major (y, x) order; ``rel_h`` /
    ``rel_w`` as from :func:`decomposed_rel_pos`. One SDPA call on the folded q' and k' (module
    docstring); v is zero-padded to their width (CPU's flash kernel needs equal widths) and the
    padding dropped from the output.
    """
    G, C = q.shape[0], q.shape[-1]
    k_h, k_w = rel_h.shape[-1], rel_w.shape[-1]
    dtype = torch.promote_types(q.dtype, rel_h.dtype)  # under autocast both are autocast's
    width = -(-(C + k_h + k_w) // WIDTH_MULTIPLE) * WIDTH_MULTIPLE
    pad = width - (C + k_h + k_w)
    # scale * q rounds as segment-anything's (q * scale) @ k^T does
    q_parts = [(q * scale).to(dtype), rel_h.to(dtype), rel_w.to(dtype)]
    q_fold = torch.cat(q_parts + [q.new_zeros(*q.shape[:2], pad, dtype=dtype)], -1)
    onehot = key_grid_onehot(k_h, k_w, dtype, k.device).expand(G, -1, -1)
    k_fold = torch.cat([k.to(dtype), onehot, k.new_zeros(*k.shape[:2], pad, dtype=dtype)], -1)
    v_fold = F.pad(v.to(dtype), (0, width - C))
    out = F.scaled_dot_product_attention(
        q_fold[:, None], k_fold[:, None], v_fold[:, None], scale=1.0
    )
    return out[:, 0, :, :C]


class FusedRelPosAttention(nn.Module):
    """segment-anything's ViT ``Attention`` (same sub-modules and parameters) with the
    attention itself through :func:`rel_pos_attention`.

    Build it from an existing block's attention with :meth:`from_attention`; it shares that
    module's ``qkv``, ``proj``, ``rel_pos_h`` and ``rel_pos_w``.
    """

    def __init__(
        self,
        qkv: nn.Module,
        proj: nn.Module,
        num_heads: int,
        rel_pos_h: Optional[nn.Parameter] = None,
        rel_pos_w: Optional[nn.Parameter] = None,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = qkv
        self.proj = proj
        dim = proj.in_features
        self.scale = (dim // num_heads) ** -0.5
        self.use_rel_pos = rel_pos_h is not None
        if self.use_rel_pos:
            self.rel_pos_h = rel_pos_h
            self.rel_pos_w = rel_pos_w

    @classmethod
    def from_attention(cls, attn: nn.Module) -> 'FusedRelPosAttention':
        """The fused twin of a segment-anything ``Attention`` (parameters shared)."""
        rel = (attn.rel_pos_h, attn.rel_pos_w) if attn.use_rel_pos else (None, None)
        return cls(attn.qkv, attn.proj, attn.num_heads, *rel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W, C) tokens of a window or the whole grid -> same shape."""
        B, H, W, _ = x.shape
        G, N = B * self.num_heads, H * W
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, G, N, -1).unbind(0)
        if self.use_rel_pos:
            rel_h, rel_w = decomposed_rel_pos(q, self.rel_pos_h, self.rel_pos_w, (H, W), (H, W))
            out = rel_pos_attention(q, k, v, rel_h, rel_w, self.scale)
        else:
            out = F.scaled_dot_product_attention(
                q[:, None], k[:, None], v[:, None], scale=self.scale
            )[:, 0]
        out = out.reshape(B, self.num_heads, H, W, -1).permute(0, 2, 3, 1, 4).reshape(B, H, W, -1)
        return self.proj(out)


def fuse_vit_attention(encoder: nn.Module) -> int:
    """Replace the attention of each block of a segment-anything ``ImageEncoderViT`` by
    :class:`FusedRelPosAttention` in place; returns how many were replaced."""
    count = 0
    for block in encoder.blocks:
        if not isinstance(block.attn, FusedRelPosAttention):
            block.attn = FusedRelPosAttention.from_attention(block.attn)
            count += 1
    return count
