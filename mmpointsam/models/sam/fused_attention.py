"""segment-anything's ViT attention through ``F.scaled_dot_product_attention``, exactly.

SAM's attention adds a decomposed relative-position term to the scores,
``S = scale * q k^T + rel_h[q, k_row] + rel_w[q, k_col]``, and writes it out as
(B * heads, N, N) score and probability matrices (12 x 4096 x 4096 per image in a global
block at 1024 px). Here the term is the additive ``attn_mask`` of a fused attention kernel,
built for a slab of query rows at a time (rows are independent, so the result is the same
maths). With gradients, the backward recomputes the probabilities slab by slab instead of
storing them (off on CPU, where it is slower than storing them: see :func:`rel_pos_attention`).

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
# Score elements (batch-heads x rows x keys) per slab: 2**24 (64 MB fp32) keeps the bias of a
# slab small next to the (G, N, N) scores (12 slabs for ViT-B's global blocks at 1024 px);
# measured here, 4x smaller slabs made the CPU SDPA forward about 1.7x slower.
SLAB_ELEMENTS = 2**24


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


def _slab_rows(rows: int, keys: int, groups: int, slab_elements: int) -> int:
    """Query rows per slab so that a slab's (groups, rows, keys) scores hold ~slab_elements."""
    return max(1, min(rows, slab_elements // max(1, keys * groups)))


def _bias(rel_h: torch.Tensor, rel_w: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(G, n, k_h * k_w) additive scores from the (G, n, k_h) and (G, n, k_w) terms."""
    G, n, k_h = rel_h.shape
    bias = rel_h.to(dtype)[..., :, None] + rel_w.to(dtype)[..., None, :]
    return bias.reshape(G, n, k_h * rel_w.shape[-1])


def _forward(q, k, v, rel_h, rel_w, scale, slab_elements):
    """Slab by slab ``softmax(scale q k^T + bias) v`` with SDPA; (G, N, C) in and out."""
    G, N, _ = q.shape
    rows = _slab_rows(N, k.shape[1], G, slab_elements)
    k4, v4 = k[:, None], v[:, None]
    out = torch.empty(G, N, v.shape[-1], dtype=q.dtype, device=q.device)
    for s in range(0, N, rows):
        e = min(N, s + rows)
        bias = _bias(rel_h[:, s:e], rel_w[:, s:e], q.dtype)
        out[:, s:e] = F.scaled_dot_product_attention(
            q[:, None, s:e], k4, v4, attn_mask=bias[:, None], scale=scale
        )[:, 0]
    return out


class _RelPosAttention(torch.autograd.Function):
    """Attention with a decomposed additive bias whose backward recomputes the probabilities
    slab by slab (the flash-attention backward, written with matmuls), so no (G, N, N) matrix
    is ever stored; gradients reach q, k, v and both bias terms."""

    @staticmethod
    def forward(ctx, q, k, v, rel_h, rel_w, scale, slab_elements):
        """SDPA slab by slab; keeps the inputs and the output, not the probabilities."""
        with torch.autocast(q.device.type, enabled=False):
            out = _forward(q, k, v, rel_h, rel_w, scale, slab_elements)
        ctx.save_for_backward(q, k, v, rel_h, rel_w, out)
        ctx.scale, ctx.slab_elements = scale, slab_elements
        return out

    @staticmethod
    def backward(ctx, grad_out):
        """dS = P * (dO V^T - rowsum(dO * O)) per slab, P recomputed; then dq, dk, dv, dbias."""
        q, k, v, rel_h, rel_w, out = ctx.saved_tensors
        G, N, _ = q.shape
        k_h, k_w = rel_h.shape[-1], rel_w.shape[-1]
        dtype, bias_dtypes = q.dtype, (rel_h.dtype, rel_w.dtype)
        with torch.autocast(q.device.type, enabled=False):
            grad_out = grad_out.to(dtype).contiguous()
            q_scaled = q * ctx.scale
            # D_i = sum_c dO_ic O_ic, the softmax backward's row term
            delta = (grad_out * out).sum(-1, keepdim=True)
            dq = torch.empty_like(q)
            dk = torch.zeros_like(k)
            dv = torch.zeros_like(v)
            d_rel_h = torch.empty(rel_h.shape, dtype=dtype, device=rel_h.device)
            d_rel_w = torch.empty(rel_w.shape, dtype=dtype, device=rel_w.device)
            rows = _slab_rows(N, k.shape[1], G, ctx.slab_elements)
            k_t, v_t = k.transpose(1, 2), v.transpose(1, 2)
            rel_h, rel_w = rel_h.to(dtype), rel_w.to(dtype)
            for s in range(0, N, rows):
                e = min(N, s + rows)
                do_s = grad_out[:, s:e]
                # recompute the probabilities, then dS = P * (dP - D); all in the inputs'
                # dtype, as autograd would run segment-anything's attention
                scores = torch.bmm(q_scaled[:, s:e], k_t)
                grid = scores.view(G, e - s, k_h, k_w)
                grid += rel_h[:, s:e, :, None]
                grid += rel_w[:, s:e, None, :]
                prob = scores.softmax(-1)
                del scores, grid
                d_scores = torch.bmm(do_s, v_t)
                d_scores -= delta[:, s:e]
                d_scores *= prob
                dv.baddbmm_(prob.transpose(1, 2), do_s)
                del prob
                dq[:, s:e] = torch.bmm(d_scores, k)
                dk.baddbmm_(d_scores.transpose(1, 2), q_scaled[:, s:e])
                d_grid = d_scores.view(G, e - s, k_h, k_w)
                d_rel_h[:, s:e] = d_grid.sum(-1)
                d_rel_w[:, s:e] = d_grid.sum(-2)
            dq *= ctx.scale
        return dq, dk, dv, d_rel_h.to(bias_dtypes[0]), d_rel_w.to(bias_dtypes[1]), None, None


def _materialised(q, k, v, rel_h, rel_w, scale):
    """segment-anything's own formulation (scores and probabilities written out), for autograd."""
    G, N, _ = q.shape
    k_h, k_w = rel_h.shape[-1], rel_w.shape[-1]
    attn = (q * scale) @ k.transpose(-2, -1)
    attn = attn.view(G, N, k_h, k_w) + rel_h[..., :, None] + rel_w[..., None, :]
    return attn.view(G, N, k_h * k_w).softmax(dim=-1) @ v


def rel_pos_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    rel_h: torch.Tensor,
    rel_w: torch.Tensor,
    scale: float,
    slab_elements: int = SLAB_ELEMENTS,
    recompute: Optional[bool] = None,
) -> torch.Tensor:
    """``softmax(scale * q k^T + rel_h[:, :, y] + rel_w[:, :, x]) v`` over keys (y, x).

    q, k, v are (G, N, C) (G = batch x heads); ``rel_h``/``rel_w`` as from
    :func:`decomposed_rel_pos`. Without gradients: SDPA slab by slab. With gradients and
    ``recompute`` (default: on except on CPU), the same forward and a backward that recomputes the
    probabilities slab by slab and stores no (G, N, N) matrix; otherwise segment-anything's
    materialised formulation, which on CPU trains faster (the recompute costs one more matmul
    and softmax, and CPU SDPA falls back to the same maths when the mask needs a gradient).
    """
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v, rel_h, rel_w))
    if not needs_grad:
        return _forward(q, k, v, rel_h, rel_w, scale, slab_elements)
    if recompute is None:
        recompute = q.device.type != 'cpu'
    if not recompute:
        return _materialised(q, k, v, rel_h, rel_w, scale)
    return _RelPosAttention.apply(q, k, v, rel_h, rel_w, scale, slab_elements)


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
        out = out.view(B, self.num_heads, H, W, -1).permute(0, 2, 3, 1, 4).reshape(B, H, W, -1)
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
