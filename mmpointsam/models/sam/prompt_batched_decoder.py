"""SAM's mask decoder for many prompts on one image, without per-prompt copies of shared work.

segment-anything repeats the image embedding once per prompt and runs its two-way transformer on
P copies of a 4096 x 256 image. Here:

* the first layer's image side, identical for every prompt, is projected once per image;
* an attention whose image side differs per prompt is re-associated when that is cheaper, so
  the 256 -> 128 projections act on the few prompt tokens instead of the 4096 image tokens
  (``q (W_k x)^T = (q W_k) x^T`` and ``softmax(.) (x W_v) = (softmax(.) x) W_v``); with many
  tokens (NPC's negatives) the projected form is cheaper and is used instead;
* softmaxes over the few prompt tokens run along a non-innermost axis (PyTorch's CPU softmax
  over a 7-long innermost axis is ~20x slower than over a 4096-long one), and attentions of the
  standard form go through ``scaled_dot_product_attention`` (fused, no N-long logits in memory);
* residual additions and biases are fused into the matrix products;
* only the mask tokens asked for are upscaled, channels-last;
* prompts go through in chunks: on CPU a few prompts' activations (4-16 MB each) stay in cache,
  which makes the memory-bound half of the work 1.5-2x faster than one batch of all prompts.

Same weights, same mathematics as :meth:`MaskDecoder.predict_masks` (equal up to float rounding,
outputs and gradients, checked in the tests).
"""

import math
from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _heads(x: Tensor, num_heads: int) -> Tensor:
    """(B, n, C') -> (B, heads, n, C'/heads)"""
    b, n, c = x.shape
    return x.reshape(b, n, num_heads, c // num_heads).transpose(1, 2)


def _recombine(x: Tensor) -> Tensor:
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


def _weight_heads(linear: torch.nn.Linear, num_heads: int) -> Tensor:
    """An input projection's weight (C', C) as (heads, d, C)."""
    out_dim, in_dim = linear.weight.shape
    return linear.weight.view(num_heads, out_dim // num_heads, in_dim)


def _reassociate(attn, num_tokens: int, mode: Optional[bool]) -> bool:
    """Re-associate when heads x tokens rows are fewer than the projection's width: the image
    side then costs ``heads * T * N * C`` instead of ``N * C * C'``."""
    if mode is not None:
        return mode
    return attn.num_heads * num_tokens < attn.internal_dim


class SharedImageSide(NamedTuple):
    """The first layer's image side, the same for every prompt of one image."""

    keys: Tensor  # (1, N, C) image embedding + dense (no-mask) embedding
    key_pe: Tensor  # (1, N, C)
    k0: Tensor  # (h, N, d) first token->image attention's keys
    v0: Tensor  # (h, N, d) and values
    q0: Tensor  # (h, N, d) first image->token attention's queries


def shared_image_side(transformer, image_embedding: Tensor, image_pe: Tensor) -> SharedImageSide:
    keys = image_embedding.flatten(2).transpose(1, 2)  # (1, N, C)
    key_pe = image_pe.flatten(2).transpose(1, 2)
    layer = transformer.layers[0]
    t2i, i2t = layer.cross_attn_token_to_image, layer.cross_attn_image_to_token
    k = keys + key_pe
    return SharedImageSide(
        keys,
        key_pe,
        _heads(t2i.k_proj(k), t2i.num_heads)[0],
        _heads(t2i.v_proj(keys), t2i.num_heads)[0],
        _heads(i2t.q_proj(k), i2t.num_heads)[0],
    )


# ------------------------------------------------------------------ token -> image attention
def _token_to_shared_image(attn, tokens_q: Tensor, k0: Tensor, v0: Tensor) -> Tensor:
    """``attn(q=tokens_q, k=image, v=image)`` with the image's keys/values projected once."""
    h = attn.num_heads
    p, t, _ = tokens_q.shape
    q = _heads(attn.q_proj(tokens_q), h)  # (P, h, T, d)
    d = q.shape[-1]
    # heads as the batch axis, every prompt's tokens as queries: (h, P*T, d) against (h, N, d),
    # no copy of the shared image per prompt
    q = q.transpose(0, 1).reshape(1, h, p * t, d)
    out = F.scaled_dot_product_attention(q, k0[None], v0[None])[0]
    return attn.out_proj(out.view(h, p, t, d).permute(1, 2, 0, 3).reshape(p, t, h * d))


def _token_to_image(
    attn, tokens_q: Tensor, image_k: Tensor, image_v: Tensor, reassociate: Optional[bool]
) -> Tensor:
    """``attn(q=tokens_q, k=image_k, v=image_v)``: tokens (P, T, C), image (P, N, C)."""
    h = attn.num_heads
    p, t, _ = tokens_q.shape
    q = _heads(attn.q_proj(tokens_q), h)  # (P, h, T, d)
    d = q.shape[-1]
    if not _reassociate(attn, t, reassociate):
        k = _heads(attn.k_proj(image_k), h)
        v = _heads(attn.v_proj(image_v), h)
        return attn.out_proj(_recombine(F.scaled_dot_product_attention(q, k, v)))
    # q . (W_k x + b_k) = (q W_k) . x + q . b_k, and the last term is constant along the image:
    # softmax over the image ignores it
    q_img = torch.einsum('phtd,hdc->phtc', q / math.sqrt(d), _weight_heads(attn.k_proj, h))
    weights = torch.softmax(q_img.reshape(p, h * t, -1) @ image_k.transpose(-1, -2), dim=-1)
    # softmax(.) (x W_v^T + b_v) = (softmax(.) x) W_v^T + b_v, since each row sums to 1 (plain
    # products here: the fused attention's backward is slower for 256-wide heads)
    pooled = (weights @ image_v).view(p, h, t, -1)
    out = torch.einsum('phtc,hdc->phtd', pooled, _weight_heads(attn.v_proj, h))
    out = out + attn.v_proj.bias.view(1, h, 1, d)
    return attn.out_proj(_recombine(out))


# ------------------------------------------------------------------ image -> token attention
def _attend_tokens(attn, keys: Tensor, weights: Tensor, v: Tensor) -> Tensor:
    """``keys + out_proj(concat_h(weights_h^T v_h))`` for weights (P, h, T, N), values
    (P, h, T, d), with the output projection moved onto the few token values."""
    p, h, t, n = weights.shape
    # out_proj(concat_h(w_h^T v_h)) = sum_h w_h^T (v_h W_out,h^T) + b, and b spreads over the
    # heads as b/h per value row, since each head's weights sum to 1 over the tokens
    w_out = attn.out_proj.weight.view(-1, h, v.shape[-1])  # (C, h, d)
    values = torch.einsum('phtd,chd->phtc', v, w_out) + attn.out_proj.bias / h
    return torch.baddbmm(
        keys, weights.reshape(p, h * t, n).transpose(1, 2), values.reshape(p, h * t, -1)
    )


def _image_to_shared_tokens(
    attn, keys: Tensor, q0: Tensor, tokens_k: Tensor, tokens_v: Tensor, reassociate: Optional[bool]
) -> Tensor:
    """``keys + attn(q=image, k=tokens_k, v=tokens_v)`` with the image's queries projected once;
    keys (1, N, C), returns (P, N, C)."""
    h = attn.num_heads
    k = _heads(attn.k_proj(tokens_k), h)  # (P, h, T, d)
    v = _heads(attn.v_proj(tokens_v), h)
    p, _, t, d = k.shape
    if not _reassociate(attn, t, reassociate):
        out = F.scaled_dot_product_attention(q0[None].expand(p, -1, -1, -1), k, v)
        return keys + attn.out_proj(_recombine(out))
    logits = (k / math.sqrt(d)).transpose(0, 1).reshape(h, p * t, d) @ q0.transpose(1, 2)
    # softmax over the tokens, not the innermost axis
    weights = torch.softmax(logits.view(h, p, t, -1), dim=2).transpose(0, 1)
    return _attend_tokens(attn, keys, weights, v)


def _image_to_tokens(
    attn,
    keys: Tensor,
    image_q: Tensor,
    tokens_k: Tensor,
    tokens_v: Tensor,
    reassociate: Optional[bool],
) -> Tensor:
    """``keys + attn(q=image_q, k=tokens_k, v=tokens_v)``: image (P, N, C), tokens (P, T, C)."""
    h = attn.num_heads
    k = _heads(attn.k_proj(tokens_k), h)  # (P, h, T, d)
    v = _heads(attn.v_proj(tokens_v), h)
    p, _, t, d = k.shape
    if not _reassociate(attn, t, reassociate):
        q = _heads(attn.q_proj(image_q), h)
        return keys + attn.out_proj(_recombine(F.scaled_dot_product_attention(q, k, v)))
    # (W_q x + b_q) . k = x . (W_q^T k) + b_q . k
    k = k / math.sqrt(d)
    k_img = torch.einsum('phtd,hdc->phtc', k, _weight_heads(attn.q_proj, h))
    bias = torch.einsum('hd,phtd->pht', attn.q_proj.bias.view(h, d), k)
    logits = torch.baddbmm(
        bias.reshape(p, h * t, 1), k_img.reshape(p, h * t, -1), image_q.transpose(1, 2)
    )  # (P, h*T, N)
    weights = torch.softmax(logits.view(p, h, t, -1), dim=2)  # over the tokens
    return _attend_tokens(attn, keys, weights, v)


# ------------------------------------------------------------------ the decoder
def two_way_transformer(
    transformer, image: SharedImageSide, point_embedding: Tensor, reassociate: Optional[bool] = None
) -> Tuple[Tensor, Tensor]:
    """segment-anything's ``TwoWayTransformer.forward`` for one shared image and P prompts
    (P, T, C); returns tokens (P, T, C) and image tokens (P, N, C)."""
    keys, key_pe = image.keys, image.key_pe
    queries = point_embedding
    for i, layer in enumerate(transformer.layers):
        if layer.skip_first_layer_pe:
            queries = layer.self_attn(q=queries, k=queries, v=queries)
        else:
            q = queries + point_embedding
            queries = queries + layer.self_attn(q=q, k=q, v=queries)
        queries = layer.norm1(queries)
        t2i, i2t = layer.cross_attn_token_to_image, layer.cross_attn_image_to_token
        if i == 0:  # the image side is still the same for every prompt
            attn_out = _token_to_shared_image(t2i, queries + point_embedding, image.k0, image.v0)
        else:
            k = keys + key_pe
            attn_out = _token_to_image(t2i, queries + point_embedding, k, keys, reassociate)
        queries = layer.norm2(queries + attn_out)
        queries = layer.norm3(queries + layer.mlp(queries))
        if i == 0:
            keys = _image_to_shared_tokens(
                i2t, keys, image.q0, queries + point_embedding, queries, reassociate
            )
        else:
            keys = _image_to_tokens(i2t, keys, k, queries + point_embedding, queries, reassociate)
        keys = layer.norm4(keys)
    attn_out = _token_to_image(
        transformer.final_attn_token_to_image,
        queries + point_embedding,
        keys + key_pe,
        keys,
        reassociate,
    )
    queries = transformer.norm_final_attn(queries + attn_out)
    return queries, keys


def _transposed_conv_matrix(conv: torch.nn.ConvTranspose2d) -> Tuple[Tensor, Tensor]:
    """A 2x2/stride-2 transposed convolution as a per-pixel matrix (C_in, 4 * C_out) whose
    output is ordered (sub-pixel dy * 2 + dx, channel), and its bias tiled the same way."""
    c_in, c_out = conv.weight.shape[:2]
    matrix = conv.weight.permute(0, 2, 3, 1).reshape(c_in, 4 * c_out)
    return matrix, conv.bias.repeat(4)


def upscale_and_predict(upscaling, keys: Tensor, hyper_in: Tensor, size: Tuple[int, int]) -> Tensor:
    """``hyper_in @ output_upscaling(image)`` with the image kept channels-last (P, H*W, C).

    SAM's upscaling is two non-overlapping 2x2 transposed convolutions (each a per-pixel
    matrix product), LayerNorm2d and GELUs. Here they act on the last axis (matrix products and
    a fused layer norm, no transposes of the big tensors), the sub-pixels stay as extra axes,
    and the K-channel masks are interleaved into (4H, 4W) only at the end.
    """
    conv1, norm, act1, conv2, act2 = upscaling
    p, n, _ = keys.shape
    h, w = size
    w1, b1 = _transposed_conv_matrix(conv1)
    w2, b2 = _transposed_conv_matrix(conv2)
    c1, c2 = conv1.weight.shape[1], conv2.weight.shape[1]
    y = torch.addmm(b1, keys.reshape(p * n, -1), w1).view(p, n, 4, c1)
    y = act1(F.layer_norm(y, (c1,), norm.weight, norm.bias, norm.eps))
    y = act2(torch.addmm(b2, y.reshape(-1, c1), w2).view(p, n * 16, c2))
    # y @ hyper^T, not hyper @ y^T: the latter hands GELU's backward a transposed gradient,
    # which torch 2.1's CPU kernel turns into NaNs (float32)
    masks = y @ hyper_in.transpose(1, 2)  # (P, N * 16, K)
    k = masks.shape[-1]
    # (h, w, dy1, dx1, dy2, dx2) -> rows 4h + 2 dy1 + dy2, columns 4w + 2 dx1 + dx2
    masks = masks.view(p, h, w, 2, 2, 2, 2, k).permute(0, 7, 1, 3, 5, 2, 4, 6)
    return masks.reshape(p, k, 4 * h, 4 * w)


def predict_masks(
    decoder,
    image_embedding: Tensor,
    image_pe: Tensor,
    sparse: Tensor,
    dense: Tensor,
    mask_tokens: slice = slice(None),
    chunk_size: Optional[int] = None,
    reassociate: Optional[bool] = None,
) -> Tuple[Tensor, Tensor]:
    """``MaskDecoder.predict_masks`` for P prompts on one image whose dense prompt embedding is
    the same for every prompt (no mask prompt).

    Args:
        image_embedding: (1, C, H, W); image_pe: (1, C, H, W); sparse: (P, T, C);
            dense: (1, C, H, W).
        mask_tokens: which of the decoder's mask tokens to upscale (0: the single-mask output,
            1-3: the multimask outputs); the others are not computed.
        chunk_size: prompts decoded together (None: all at once).
        reassociate: force (True/False) or let the cost decide (None) the order of the
            per-prompt image attentions' products.

    Returns:
        Masks (P, K, 4H, 4W) for the K selected tokens and IoU predictions (P, K).
    """
    p = sparse.shape[0]
    image = shared_image_side(decoder.transformer, image_embedding + dense, image_pe)
    output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
    token_ids = range(decoder.num_mask_tokens)[mask_tokens]
    chunk_size = chunk_size or max(p, 1)
    masks, ious = [], []
    for start in range(0, p, chunk_size):
        chunk = sparse[start : start + chunk_size]
        tokens = torch.cat([output_tokens.unsqueeze(0).expand(len(chunk), -1, -1), chunk], dim=1)
        hs, keys = two_way_transformer(decoder.transformer, image, tokens, reassociate)
        hyper_in = torch.stack(
            [decoder.output_hypernetworks_mlps[i](hs[:, 1 + i, :]) for i in token_ids], dim=1
        )
        masks.append(
            upscale_and_predict(
                decoder.output_upscaling, keys, hyper_in, image_embedding.shape[-2:]
            )
        )
        ious.append(decoder.iou_prediction_head(hs[:, 0, :])[:, mask_tokens])
    return torch.cat(masks), torch.cat(ious)
