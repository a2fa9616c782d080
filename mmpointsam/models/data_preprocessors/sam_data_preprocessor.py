"""SAM's input transform as an MMEngine data preprocessor: longest side to ``img_size``, pixel
normalisation, zero padding to a square. Done on batched tensors (on the model's device) rather
than in the CPU pipeline, and recorded in each sample's metainfo so outputs map back exactly."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from mmpointsam.registry import MODELS


def longest_side_shape(height: int, width: int, size: int) -> Tuple[int, int]:
    """Shape after resizing the longest side to ``size`` (segment-anything's rounding)."""
    scale = size / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


@MODELS.register_module()
class SAMDataPreprocessor(BaseDataPreprocessor):
    """Resize (longest side), normalise and pad images for SAM.

    ``inputs`` is a list of uint8 (3, H, W) tensors of any sizes, or a dict of such lists (one per
    augmented view, e.g. ``weak``/``strong``; views of one sample must share their size). Each
    data sample gets ``img_shape`` (resized, unpadded), ``scale_factor`` (w, h), ``pad_shape``
    and ``batch_input_shape``; annotations stay in original image coordinates.

    Args:
        img_size: side of the padded square (SAM: 1024).
        mean, std: per-channel pixel statistics, RGB (SAM's defaults).
        bgr_to_rgb: images are loaded BGR by mmcv; SAM expects RGB.
    """

    def __init__(self,
                 img_size: int = 1024,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking)
        self.img_size = img_size
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)

    def _transform(self, images: List[torch.Tensor]) -> torch.Tensor:
        batch = torch.zeros((len(images), 3, self.img_size, self.img_size),
                            device=self.mean.device)
        for i, img in enumerate(images):
            img = img.to(self.mean.device)
            if img.dim() != 3 or img.shape[0] != 3:
                raise ValueError(f'expected a (3, H, W) image tensor, got shape {tuple(img.shape)}')
            if self.bgr_to_rgb:
                img = img.flip(0)
            h, w = img.shape[-2:]
            new_h, new_w = longest_side_shape(h, w, self.img_size)
            img = img.float()[None]
            if (new_h, new_w) != (h, w):
                # antialiased bilinear matches the PIL resize segment-anything uses
                img = F.interpolate(img, size=(new_h, new_w), mode='bilinear',
                                    align_corners=False, antialias=True)
            batch[i, :, :new_h, :new_w] = (img[0] - self.mean) / self.std
        return batch

    def forward(self, data: dict, training: bool = False) -> Dict[str, object]:
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if isinstance(inputs, dict):
            views = {name: self._transform(list(imgs)) for name, imgs in inputs.items()}
            reference = next(iter(inputs.values()))
            out_inputs: Union[torch.Tensor, dict] = views
        else:
            reference = list(inputs)
            out_inputs = self._transform(reference)
        if data_samples is not None:
            for img, sample in zip(reference, data_samples):
                h, w = img.shape[-2:]
                new_h, new_w = longest_side_shape(h, w, self.img_size)
                sample.set_metainfo(dict(
                    img_shape=(new_h, new_w),
                    scale_factor=(new_w / w, new_h / h),
                    pad_shape=(self.img_size, self.img_size),
                    batch_input_shape=(self.img_size, self.img_size)))
        return dict(inputs=out_inputs, data_samples=data_samples)
