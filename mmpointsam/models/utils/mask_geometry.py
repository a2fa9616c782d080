"""Exact mappings between the original image, SAM's padded input frame and the decoder's low-res
mask grid (a quarter of the embedding grid's 4x upsampling: 256x256 for 1024 inputs).

The resized image sits in the ``input_size`` square at ``pad_offset = (top, left)`` input-frame
pixels: (0, 0) for corner (bottom-right) padding, the centring offset for centred padding (see
``SAMDataPreprocessor(pad_mode=...)``). Every mapping takes it, default (0, 0)."""

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F


def pad_offset_of(sample) -> Tuple[int, int]:
    """(top, left) of the resized image in the input frame, from a data sample's metainfo
    (``SAMDataPreprocessor`` records it; (0, 0) when absent: corner padding)."""
    meta = sample.metainfo if hasattr(sample, 'metainfo') else sample
    top, left = meta.get('pad_offset', (0, 0))
    return int(top), int(left)


def original_to_input_points(
    points: torch.Tensor, scale_factor: Sequence[float], pad_offset: Sequence[int] = (0, 0)
) -> torch.Tensor:
    """xy in original pixels -> xy in the resized/padded input frame."""
    shift = points.new_tensor([pad_offset[1], pad_offset[0]])  # (left, top) as xy
    return points * points.new_tensor(scale_factor[:2]) + shift


def input_to_original_points(
    points: torch.Tensor, scale_factor: Sequence[float], pad_offset: Sequence[int] = (0, 0)
) -> torch.Tensor:
    """Points in the model's input frame back to the original image."""
    shift = points.new_tensor([pad_offset[1], pad_offset[0]])
    return (points - shift) / points.new_tensor(scale_factor[:2])


def low_res_to_original(
    logits: torch.Tensor,
    img_shape: Tuple[int, int],
    ori_shape: Tuple[int, int],
    input_size: int,
    pad_offset: Sequence[int] = (0, 0),
) -> torch.Tensor:
    """Resample low-res mask logits (N, L, L) of the padded frame to the original image (N, H, W).

    One bilinear ``grid_sample`` that maps each original pixel centre through the resize (and the
    padding offset) into the low-res grid: the padding is never materialised at full resolution
    (segment-anything's two interpolations cost N x 1024 x 1024 more memory for the same geometry).
    """
    num = logits.shape[0]
    ori_h, ori_w = (int(s) for s in ori_shape[:2])
    if num == 0:
        return logits.new_zeros((0, ori_h, ori_w))
    new_h, new_w = img_shape[:2]
    top, left = pad_offset[:2]
    ys = (torch.arange(ori_h, device=logits.device, dtype=logits.dtype) + 0.5) * (new_h / ori_h)
    xs = (torch.arange(ori_w, device=logits.device, dtype=logits.dtype) + 0.5) * (new_w / ori_w)
    # normalised coordinates of grid_sample with align_corners=False: -1/+1 are the frame's edges
    gy = (ys + top) * (2.0 / input_size) - 1.0
    gx = (xs + left) * (2.0 / input_size) - 1.0
    grid = torch.stack(torch.meshgrid(gx, gy, indexing='xy'), dim=-1)[None]
    # masks as channels of one sample: one grid serves all of them
    out = F.grid_sample(logits[None], grid, mode='bilinear', align_corners=False)
    return out[0]


def original_to_low_res(
    masks: torch.Tensor,
    img_shape: Tuple[int, int],
    input_size: int,
    low_res_size: int,
    pad_offset: Sequence[int] = (0, 0),
    chunk: int = 16,
) -> torch.Tensor:
    """Binary masks (N, H, W) of the original image -> soft masks (N, L, L) of the padded frame.

    Area-like (antialiased) downsampling keeps thin objects that a nearest lookup would miss.
    When the offset is not a whole number of low-res cells (centred padding, usually), the mask
    is resized into the input frame and area-pooled to the grid, ``chunk`` masks at a time.
    """
    num = masks.shape[0]
    out = masks.new_zeros((num, low_res_size, low_res_size), dtype=torch.float32)
    if num == 0:
        return out
    top, left = (int(v) for v in pad_offset[:2])
    stride = input_size // low_res_size
    if top % stride == 0 and left % stride == 0:
        scale = low_res_size / input_size
        t, lft = top // stride, left // stride
        h = max(1, min(low_res_size - t, round(img_shape[0] * scale)))
        w = max(1, min(low_res_size - lft, round(img_shape[1] * scale)))
        resized = F.interpolate(
            masks[None].float(), size=(h, w), mode='bilinear', align_corners=False, antialias=True
        )[0]
        out[:, t : t + h, lft : lft + w] = resized
        return out
    new_h, new_w = (int(s) for s in img_shape[:2])
    for start in range(0, num, chunk):
        part = F.interpolate(
            masks[None, start : start + chunk].float(),
            size=(new_h, new_w),
            mode='bilinear',
            align_corners=False,
            antialias=True,
        )[0]
        frame = F.pad(part, (left, input_size - new_w - left, top, input_size - new_h - top))
        out[start : start + chunk] = F.avg_pool2d(frame[None], stride)[0]
    return out
