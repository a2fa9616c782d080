"""TinyViT image encoder in MobileSAM's ``vit_t`` configuration, written locally
so that ``mobile_sam.pt`` loads strictly without depending on the MobileSAM package."""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

try:
    from segment_anything.modeling.common import LayerNorm2d
except ImportError:  # pragma: no cover - exercised only without segment-anything

    class LayerNorm2d(nn.Module):
        """LayerNorm over the channel dim of a (B, C, H, W) tensor."""

        def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(num_channels))
            self.bias = nn.Parameter(torch.zeros(num_channels))
            self.eps = eps

        def forward(self, x: Tensor) -> Tensor:
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / torch.sqrt(s + self.eps)
            return self.weight[:, None, None] * x + self.bias[:, None, None]


__all__ = ['TinyViT']

# MobileSAM's windows are small (49 and 196 tokens): on CPU the SDPA kernel ran its attention
# 10-20 % slower than the written-out maths (tools/benchmark/roofline.py, vit_t, fp32 and bf16,
# forward and LoRA backward), so there the fused switch keeps the reference path.
SDPA_ON_CPU = False


class DropPath(nn.Module):
    """Stochastic depth applied per sample on the residual branch."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1))
        mask.bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


def _drop_path(p: float) -> nn.Module:
    return DropPath(p) if p > 0.0 else nn.Identity()


class Conv2d_BN(nn.Sequential):
    """Bias-free Conv2d followed by BatchNorm2d (children ``c`` and ``bn``)."""

    def __init__(
        self,
        in_chans: int,
        out_chans: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bn_weight_init: float = 1.0,
    ) -> None:
        super().__init__()
        self.add_module(
            'c',
            nn.Conv2d(in_chans, out_chans, kernel_size, stride, padding, groups=groups, bias=False),
        )
        bn = nn.BatchNorm2d(out_chans)
        nn.init.constant_(bn.weight, bn_weight_init)
        nn.init.zeros_(bn.bias)
        self.add_module('bn', bn)


class PatchEmbed(nn.Module):
    """Two stride-2 3x3 conv-BN layers: (B, C, H, W) -> (B, D, H/4, W/4)."""

    def __init__(self, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(
            Conv2d_BN(in_chans, embed_dim // 2, 3, 2, 1),
            nn.GELU(),
            Conv2d_BN(embed_dim // 2, embed_dim, 3, 2, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand, 3x3 depthwise, 1x1 project."""

    def __init__(self, dim: int, expand_ratio: float, drop_path: float = 0.0) -> None:
        super().__init__()
        hidden = int(dim * expand_ratio)
        self.conv1 = Conv2d_BN(dim, hidden, 1)
        self.act1 = nn.GELU()
        self.conv2 = Conv2d_BN(hidden, hidden, 3, 1, 1, groups=hidden)
        self.act2 = nn.GELU()
        # Zero-init last BN so each block starts as identity.
        self.conv3 = Conv2d_BN(hidden, dim, 1, bn_weight_init=0.0)
        self.act3 = nn.GELU()
        self.drop_path = _drop_path(drop_path)

    def forward(self, x: Tensor) -> Tensor:
        y = self.act1(self.conv1(x))
        y = self.act2(self.conv2(y))
        y = self.conv3(y)
        return self.act3(x + self.drop_path(y))


class PatchMerging(nn.Module):
    """Conv-based token merging; returns tokens of shape (B, L', out_dim)."""

    def __init__(
        self, input_resolution: Tuple[int, int], dim: int, out_dim: int, stride: int = 2
    ) -> None:
        super().__init__()
        self.input_resolution = input_resolution
        self.conv1 = Conv2d_BN(dim, out_dim, 1)
        self.conv2 = Conv2d_BN(out_dim, out_dim, 3, stride, 1, groups=out_dim)
        self.conv3 = Conv2d_BN(out_dim, out_dim, 1)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:
            H, W = self.input_resolution
            B = x.shape[0]
            x = x.view(B, H, W, -1).permute(0, 3, 1, 2)
        x = self.act(self.conv1(x))
        x = self.act(self.conv2(x))
        x = self.conv3(x)
        return x.flatten(2).transpose(1, 2)


class _Stage(nn.Module):
    """A stage: its blocks in order, then an optional downsampling."""

    def forward(self, x: Tensor) -> Tensor:
        for blk in self.blocks:
            x = blk(x)
        if self.downsample is not None:
            x = self.downsample(x)
        return x


class ConvLayer(_Stage):
    """Stage of MBConv blocks on (B, C, H, W) maps, then optional merging."""

    def __init__(
        self,
        dim: int,
        input_resolution: Tuple[int, int],
        depth: int,
        drop_path: Sequence[float],
        expand_ratio: float,
        downsample: Optional[nn.Module] = None,
    ) -> None:
        super().__init__()
        self.input_resolution = input_resolution
        self.blocks = nn.ModuleList([MBConv(dim, expand_ratio, drop_path[i]) for i in range(depth)])
        self.downsample = downsample


class Mlp(nn.Module):
    """Pre-norm two-layer MLP."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.act = nn.GELU()
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        x = self.drop(self.act(self.fc1(self.norm(x))))
        return self.drop(self.fc2(x))


class Attention(nn.Module):
    """Pre-norm multi-head self-attention over a fixed-size window with a
    learned bias per head and per (|dy|, |dx|) offset."""

    def __init__(
        self, dim: int, num_heads: int, resolution: Tuple[int, int], fused: bool = True
    ) -> None:
        super().__init__()
        # fused: the bias table as the additive mask of F.scaled_dot_product_attention (off the
        # CPU, see SDPA_ON_CPU)
        self.fused = fused
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        inner = self.head_dim * num_heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, inner * 3)
        self.proj = nn.Linear(inner, dim)

        rh, rw = resolution
        ys, xs = torch.meshgrid(torch.arange(rh), torch.arange(rw), indexing='ij')
        ys, xs = ys.flatten(), xs.flatten()
        # Offset (dy, dx) maps to column dy * rw + dx, the order in which the
        # pretrained checkpoint enumerates offsets.
        idxs = (ys[:, None] - ys[None, :]).abs() * rw + (xs[:, None] - xs[None, :]).abs()
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, rh * rw))
        self.register_buffer('attention_bias_idxs', idxs, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        B, N, _ = x.shape
        x = self.norm(x)
        qkv = self.qkv(x)
        # Channels are laid out per head as [q | k | v].
        q, k, v = (
            qkv.view(B, N, self.num_heads, 3 * self.head_dim)
            .permute(0, 2, 1, 3)
            .split(self.head_dim, dim=3)
        )
        bias = self.attention_biases[:, self.attention_bias_idxs]
        if self.fused and (SDPA_ON_CPU or q.device.type != 'cpu'):
            x = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias.to(q.dtype), scale=self.scale
            )
        else:
            attn = (q @ k.transpose(-2, -1)) * self.scale
            x = (attn + bias).softmax(dim=-1) @ v
        x = x.transpose(1, 2).reshape(B, N, -1)
        return self.proj(x)


class TinyViTBlock(nn.Module):
    """Window attention + depthwise local conv + MLP on (B, L, C) tokens."""

    def __init__(
        self,
        dim: int,
        input_resolution: Tuple[int, int],
        num_heads: int,
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        drop: float = 0.0,
        drop_path: float = 0.0,
        local_conv_size: int = 3,
        attention: str = 'fused',
    ) -> None:
        super().__init__()
        assert dim % num_heads == 0, 'dim must be divisible by num_heads'
        self.dim = dim
        self.input_resolution = input_resolution
        self.window_size = window_size
        self.attn = Attention(dim, num_heads, (window_size, window_size), attention == 'fused')
        self.drop_path = _drop_path(drop_path)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        self.local_conv = Conv2d_BN(dim, dim, local_conv_size, 1, local_conv_size // 2, groups=dim)

    def _window_attn(self, x: Tensor) -> Tensor:
        H, W = self.input_resolution
        ws = self.window_size
        B, _, C = x.shape
        if H == ws and W == ws:
            return self.attn(x)
        x = x.view(B, H, W, C)
        pad_b = (ws - H % ws) % ws
        pad_r = (ws - W % ws) % ws
        if pad_b or pad_r:
            x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        Hp, Wp = H + pad_b, W + pad_r
        nh, nw = Hp // ws, Wp // ws
        x = x.view(B, nh, ws, nw, ws, C).transpose(2, 3).reshape(B * nh * nw, ws * ws, C)
        x = self.attn(x)
        x = x.view(B, nh, nw, ws, ws, C).transpose(2, 3).reshape(B, Hp, Wp, C)
        x = x[:, :H, :W].contiguous()
        return x.view(B, H * W, C)

    def forward(self, x: Tensor) -> Tensor:
        H, W = self.input_resolution
        B, L, C = x.shape
        assert L == H * W, f'expected {H * W} tokens, got {L}'
        x = x + self.drop_path(self._window_attn(x))
        x = x.transpose(1, 2).reshape(B, C, H, W)
        x = self.local_conv(x)
        x = x.view(B, C, L).transpose(1, 2)
        return x + self.drop_path(self.mlp(x))

    def extra_repr(self) -> str:
        return (
            f'dim={self.dim}, input_resolution={self.input_resolution}, '
            f'window_size={self.window_size}'
        )


class BasicLayer(_Stage):
    """Stage of TinyViT blocks, then optional merging."""

    def __init__(
        self,
        dim: int,
        input_resolution: Tuple[int, int],
        depth: int,
        num_heads: int,
        window_size: int,
        mlp_ratio: float,
        drop: float,
        drop_path: Sequence[float],
        local_conv_size: int,
        downsample: Optional[nn.Module] = None,
        attention: str = 'fused',
    ) -> None:
        super().__init__()
        self.input_resolution = input_resolution
        self.blocks = nn.ModuleList(
            [
                TinyViTBlock(
                    dim,
                    input_resolution,
                    num_heads,
                    window_size,
                    mlp_ratio,
                    drop,
                    drop_path[i],
                    local_conv_size,
                    attention,
                )
                for i in range(depth)
            ]
        )
        self.downsample = downsample


class TinyViT(nn.Module):
    """TinyViT backbone with a SAM-style neck.

    Maps ``(B, in_chans, img_size, img_size)`` images to
    ``(B, out_chans, img_size // 16, img_size // 16)`` embeddings. Unlike the
    classification TinyViT, the last patch merging has stride 1 so the output
    stride is 16. ``norm_head``/``head`` are unused in ``forward`` and exist
    only so pretrained checkpoints load strictly. ``attention='fused'`` runs the window
    attention through ``F.scaled_dot_product_attention`` (same maths; not on CPU, where it
    measured slower), ``'reference'`` as MobileSAM writes it.
    """

    def __init__(
        self,
        img_size: int = 1024,
        in_chans: int = 3,
        num_classes: int = 1000,
        embed_dims: Sequence[int] = (64, 128, 160, 320),
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (2, 4, 5, 10),
        window_sizes: Sequence[int] = (7, 7, 14, 7),
        mlp_ratio: float = 4.0,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        mbconv_expand_ratio: float = 4.0,
        local_conv_size: int = 3,
        out_chans: int = 256,
        attention: str = 'fused',
    ) -> None:
        super().__init__()
        num_layers = len(depths)
        assert num_layers >= 2, 'need a conv stage and an attention stage'
        assert len(embed_dims) == len(num_heads) == len(window_sizes) == num_layers
        self.img_size = img_size
        self.num_classes = num_classes
        self.depths = tuple(depths)
        self.embed_dims = tuple(embed_dims)

        self.patch_embed = PatchEmbed(in_chans, embed_dims[0])

        # plain Python so the model can also be built on the meta device
        total = sum(depths)
        dpr = [drop_path_rate * i / max(total - 1, 1) for i in range(total)]
        res = img_size // 4
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            stage_dpr = dpr[sum(depths[:i]) : sum(depths[: i + 1])]
            downsample = None
            next_res = res
            if i < num_layers - 1:
                stride = 1 if i == num_layers - 2 else 2
                downsample = PatchMerging((res, res), embed_dims[i], embed_dims[i + 1], stride)
                next_res = (res - 1) // stride + 1
            if i == 0:
                layer = ConvLayer(
                    embed_dims[0], (res, res), depths[0], stage_dpr, mbconv_expand_ratio, downsample
                )
            else:
                layer = BasicLayer(
                    embed_dims[i],
                    (res, res),
                    depths[i],
                    num_heads[i],
                    window_sizes[i],
                    mlp_ratio,
                    drop_rate,
                    stage_dpr,
                    local_conv_size,
                    downsample,
                    attention,
                )
            self.layers.append(layer)
            res = next_res
        self.out_resolution = res

        self.norm_head = nn.LayerNorm(embed_dims[-1])
        self.head = nn.Linear(embed_dims[-1], num_classes) if num_classes > 0 else nn.Identity()

        self.neck = nn.Sequential(
            nn.Conv2d(embed_dims[-1], out_chans, 1, bias=False),
            LayerNorm2d(out_chans),
            nn.Conv2d(out_chans, out_chans, 3, padding=1, bias=False),
            LayerNorm2d(out_chans),
        )

        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != (self.img_size, self.img_size):
            raise ValueError(
                f'TinyViT built for {self.img_size}x{self.img_size} input, '
                f'got {tuple(x.shape[-2:])}'
            )
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        B, _, C = x.shape
        r = self.out_resolution
        x = x.view(B, r, r, C).permute(0, 3, 1, 2)
        return self.neck(x)
