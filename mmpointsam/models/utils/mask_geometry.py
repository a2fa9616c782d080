"""Exact mappings between the original image, SAM's padded input frame and the decoder's low-res
mask grid (a quarter of the embedding grid's 4x upsampling: 256x256 for 1024 inputs)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F


def original_to_input_points(points: torch.Tensor, scale_factor: Sequence[float]) -> torch.Tensor:
    """xy in original pixels -> xy in the resized/padded input frame."""
    return points * points.new_tensor(scale_factor[:2])


def input_to_original_points(points: torch.Tensor, scale_factor: Sequence[float]) -> torch.Tensor:
    return points / points.new_tensor(scale_factor[:2])


def low_res_to_original(logits: torch.Tensor, img_shape: Tuple[int, int],
                        ori_shape: Tuple[int, int], input_size: int) -> torch.Tensor:
    """Resample low-res mask logits (N, L, L) of the padded frame to the original image (N, H, W).

    One bilinear ``grid_sample`` that maps each original pixel centre through the resize into the
    low-res grid: the padding is never materialised at full resolution (segment-anything's two
    interpolations cost N x 1024 x 1024 more memory for the same geometry).
    """
    num = logits.shape[0]
    ori_h, ori_w = (int(s) for s in ori_shape[:2])
    if num == 0:
        return logits.new_zeros((0, ori_h, ori_w))
    new_h, new_w = img_shape[:2]
    ys = (torch.arange(ori_h, device=logits.device, dtype=logits.dtype) + 0.5) * (new_h / ori_h)
    xs = (torch.arange(ori_w, device=logits.device, dtype=logits.dtype) + 0.5) * (new_w / ori_w)
    # normalised coordinates of grid_sample with align_corners=False: -1/+1 are the frame's edges
    gy = ys * (2.0 / input_size) - 1.0
    gx = xs * (2.0 / input_size) - 1.0
    grid = torch.stack(torch.meshgrid(gx, gy, indexing='xy'), dim=-1)[None]
    # masks as channels of one sample: one grid serves all of them
    out = F.grid_sample(logits[None], grid, mode='bilinear', align_corners=False)
    return out[0]


def original_to_low_res(masks: torch.Tensor, img_shape: Tuple[int, int], input_size: int,
                        low_res_size: int) -> torch.Tensor:
    """Binary masks (N, H, W) of the original image -> soft masks (N, L, L) of the padded frame.

    Area-like (antialiased) downsampling keeps thin objects that a nearest lookup would miss.
    """
    num = masks.shape[0]
    out = masks.new_zeros((num, low_res_size, low_res_size), dtype=torch.float32)
    if num == 0:
        return out
    scale = low_res_size / input_size
    h = max(1, min(low_res_size, round(img_shape[0] * scale)))
    w = max(1, min(low_res_size, round(img_shape[1] * scale)))
    resized = F.interpolate(masks[None].float(), size=(h, w), mode='bilinear',
                            align_corners=False, antialias=True)[0]
    out[:, :h, :w] = resized
    return out
