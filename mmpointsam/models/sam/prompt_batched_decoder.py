"""SAM's mask decoder for many prompts on one image, without per-prompt copies of shared work.

segment-anything repeats the image embedding once per prompt and runs its two-way transformer on
P copies of a 4096 x 256 image. Here the first layer's image side, which is identical for every
prompt, is computed once, and every attention whose image side does differ per prompt is
re-associated so that the 256 -> 128 projections act on the few prompt tokens instead of the
4096 image tokens (``q (W_k x)^T = (q W_k) x^T`` and ``softmax(.) (x W_v) = (softmax(.) x) W_v``).
Same weights, same mathematics as :meth:`MaskDecoder.predict_masks` (equal up to float
rounding, checked in the tests), about half the arithmetic and far less memory traffic.
"""
import math
from typing import Tuple

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


def token_to_image(attn, tokens_q: Tensor, image_k: Tensor, image_v: Tensor) -> Tensor:
    """``attn(q=tokens_q, k=image_k, v=image_v)`` for tokens (P, T, C) and image (1 or P, N, C)."""
    h = attn.num_heads
    q = _heads(attn.q_proj(tokens_q), h)  # (P, h, T, d)
    d = q.shape[-1]
    if image_k.shape[0] == 1:  # one image side for every prompt: project it once
        k = _heads(attn.k_proj(image_k), h)
        v = _heads(attn.v_proj(image_v), h)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        return attn.out_proj(_recombine(weights @ v))
    p, t = q.shape[0], q.shape[2]
    # q . (W_k x + b_k) = (q W_k) . x + q . b_k, and the last term is constant along the image:
    # softmax over the image ignores it
    q_img = torch.einsum('phtd,hdc->phtc', q / math.sqrt(d), _weight_heads(attn.k_proj, h))
    weights = torch.softmax(q_img.reshape(p, h * t, -1) @ image_k.transpose(-1, -2), dim=-1)
    # weights @ (x W_v^T + b_v) = (weights @ x) W_v^T + b_v, since each row of weights sums to 1
    pooled = (weights @ image_v).view(p, h, t, -1)
    out = torch.einsum('phtc,hdc->phtd', pooled, _weight_heads(attn.v_proj, h))
    out = out + attn.v_proj.bias.view(1, h, 1, d)
    return attn.out_proj(_recombine(out))


def image_to_token(attn, image_q: Tensor, tokens_k: Tensor, tokens_v: Tensor) -> Tensor:
    """``attn(q=image_q, k=tokens_k, v=tokens_v)`` for image (1 or P, N, C) and tokens (P, T, C)."""
    h = attn.num_heads
    k = _heads(attn.k_proj(tokens_k), h)  # (P, h, T, d)
    v = _heads(attn.v_proj(tokens_v), h)
    p, _, t, d = k.shape
    k = k / math.sqrt(d)
    if image_q.shape[0] == 1:  # shared image queries: project them once
        q = _heads(attn.q_proj(image_q), h)  # (1, h, N, d)
        logits = (q @ k.transpose(-1, -2)).permute(0, 2, 1, 3)  # (P, N, h, T)
    else:
        # (W_q x + b_q) . k = x . (W_q^T k) + b_q . k
        k_img = torch.einsum('phtd,hdc->phtc', k, _weight_heads(attn.q_proj, h)).reshape(
            p, h * t, -1)
        bias = torch.einsum('hd,phtd->pht', attn.q_proj.bias.view(h, d), k).reshape(p, 1, h * t)
        logits = (image_q @ k_img.transpose(-1, -2) + bias).view(p, -1, h, t)
    weights = torch.softmax(logits, dim=-1).reshape(p, -1, h * t)
    # out_proj(concat_h(weights_h @ v_h)) = sum_h weights_h @ (v_h W_out,h^T) + b_out
    w_out = attn.out_proj.weight.view(-1, h, d)  # (C, h, d)
    values = torch.einsum('phtd,chd->phtc', v, w_out).reshape(p, h * t, -1)
    return weights @ values + attn.out_proj.bias


def two_way_transformer(transformer, image_embedding: Tensor, image_pe: Tensor,
                        point_embedding: Tensor) -> Tuple[Tensor, Tensor]:
    """segment-anything's ``TwoWayTransformer.forward`` for one shared image (1, C, H, W) and
    P prompts (P, T, C); returns tokens (P, T, C) and image tokens (P, N, C)."""
    keys = image_embedding.flatten(2).transpose(1, 2)  # (1, N, C)
    key_pe = image_pe.flatten(2).transpose(1, 2)
    queries = point_embedding
    for layer in transformer.layers:
        if layer.skip_first_layer_pe:
            queries = layer.self_attn(q=queries, k=queries, v=queries)
        else:
            q = queries + point_embedding
            queries = queries + layer.self_attn(q=q, k=q, v=queries)
        queries = layer.norm1(queries)
        k = keys + key_pe
        queries = layer.norm2(
            queries + token_to_image(layer.cross_attn_token_to_image, queries + point_embedding,
                                     k, keys))
        queries = layer.norm3(queries + layer.mlp(queries))
        keys = layer.norm4(
            keys + image_to_token(layer.cross_attn_image_to_token, k, queries + point_embedding,
                                  queries))
    attn_out = token_to_image(transformer.final_attn_token_to_image, queries + point_embedding,
                              keys + key_pe, keys)
    queries = transformer.norm_final_attn(queries + attn_out)
    return queries, keys


def _transposed_conv_matrix(conv: torch.nn.ConvTranspose2d) -> Tuple[Tensor, Tensor]:
    """A 2x2/stride-2 transposed convolution as a per-pixel matrix (C_in, 4 * C_out) whose
    output is ordered (sub-pixel dy * 2 + dx, channel), and its bias tiled the same way."""
    c_in, c_out = conv.weight.shape[:2]
    matrix = conv.weight.permute(0, 2, 3, 1).reshape(c_in, 4 * c_out)
    return matrix, conv.bias.repeat(4)


def upscale_and_predict(upscaling, keys: Tensor, hyper_in: Tensor, size: Tuple[int, int]
                        ) -> Tensor:
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
    y = act1(F.layer_norm(y, (c1, ), norm.weight, norm.bias, norm.eps))
    y = act2(torch.addmm(b2, y.reshape(-1, c1), w2).view(p, n * 16, c2))
    # y @ hyper^T, not hyper @ y^T: the latter hands GELU's backward a transposed gradient,
    # which torch 2.1's CPU kernel turns into NaNs (float32)
    masks = y @ hyper_in.transpose(1, 2)  # (P, N * 16, K)
    k = masks.shape[-1]
    # (h, w, dy1, dx1, dy2, dx2) -> rows 4h + 2 dy1 + dy2, columns 4w + 2 dx1 + dx2
    masks = masks.view(p, h, w, 2, 2, 2, 2, k).permute(0, 7, 1, 3, 5, 2, 4, 6)
    return masks.reshape(p, k, 4 * h, 4 * w)


def predict_masks(decoder, image_embedding: Tensor, image_pe: Tensor, sparse: Tensor,
                  dense: Tensor) -> Tuple[Tensor, Tensor]:
    """``MaskDecoder.predict_masks`` for P prompts on one image whose dense prompt embedding is
    the same for every prompt (no mask prompt): image (1, C, H, W), sparse (P, T, C), dense
    (1, C, H, W). Returns masks (P, num_mask_tokens, 4H, 4W) and IoU predictions."""
    p = sparse.shape[0]
    output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
    tokens = torch.cat([output_tokens.unsqueeze(0).expand(p, -1, -1), sparse], dim=1)
    hs, keys = two_way_transformer(decoder.transformer, image_embedding + dense, image_pe, tokens)
    iou_token_out = hs[:, 0, :]
    mask_tokens_out = hs[:, 1:1 + decoder.num_mask_tokens, :]
    hyper_in = torch.stack([
        mlp(mask_tokens_out[:, i, :]) for i, mlp in enumerate(decoder.output_hypernetworks_mlps)
    ], dim=1)
    masks = upscale_and_predict(decoder.output_upscaling, keys, hyper_in,
                                image_embedding.shape[-2:])
    return masks, decoder.iou_prediction_head(iou_token_out)
