"""SAM's input transform as an MMEngine data preprocessor: longest side to ``img_size``, pixel
normalisation, zero padding to a square. Done on batched tensors (on the model's device) rather
than in the CPU pipeline, and recorded in each sample's metainfo so outputs map back exactly."""

from typing import Dict, List, Sequence, Tuple, Union

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
    data sample gets ``img_shape`` (resized, unpadded), ``scale_factor`` (w, h), ``pad_shape``,
    ``batch_input_shape`` and ``pad_offset`` (top, left): where the resized image sits in the
    square, in input-frame pixels; annotations stay in original image coordinates.

    Args:
        img_size: side of the padded square (SAM: 1024).
        mean, std: per-channel pixel statistics, RGB (SAM's defaults). The public PointSAM and
            ReSAM code feed SAM's encoder the raw image in [0, 1] (torchvision ``ToTensor``, i.e.
            /255, no mean/std): ``mean=(0, 0, 0), std=(255, 255, 255)`` gives that.
        bgr_to_rgb: images are loaded BGR by mmcv; SAM expects RGB.
        pad_mode: 'corner' pads bottom and right (segment-anything's ``preprocess``, offset
            (0, 0)); 'center' centres the image in the square as the public PointSAM/ReSAM code
            does (public code: datasets/tools.py ``ResizeAndPad``): top = (S - h) // 2,
            left = (S - w) // 2, the odd pixel going to the bottom/right.
    """

    PAD_MODES = ('corner', 'center')

    def __init__(
        self,
        img_size: int = 1024,
        mean: Sequence[float] = (123.675, 116.28, 103.53),
        std: Sequence[float] = (58.395, 57.12, 57.375),
        bgr_to_rgb: bool = True,
        non_blocking: bool = False,
        pad_mode: str = 'corner',
    ) -> None:
        super().__init__(non_blocking)
        if pad_mode not in self.PAD_MODES:
            raise ValueError(f'pad_mode must be one of {self.PAD_MODES}, got {pad_mode!r}')
        self.img_size = img_size
        self.pad_mode = pad_mode
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)

    def _transform(self, images: List[torch.Tensor]) -> torch.Tensor:
        """Resize each image's longest side to ``img_size``, normalise, and pad into one batch."""
        batch = torch.zeros((len(images), 3, self.img_size, self.img_size), device=self.mean.device)
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
                img = F.interpolate(
                    img, size=(new_h, new_w), mode='bilinear', align_corners=False, antialias=True
                )
            top, left = self.pad_offset(new_h, new_w)
            batch[i, :, top : top + new_h, left : left + new_w] = (img[0] - self.mean) / self.std
        return batch

    def pad_offset(self, new_h: int, new_w: int) -> Tuple[int, int]:
        """(top, left) of a resized (new_h, new_w) image in the square."""
        if self.pad_mode == 'center':
            return (self.img_size - new_h) // 2, (self.img_size - new_w) // 2
        return 0, 0

    def forward(self, data: dict, training: bool = False) -> Dict[str, object]:
        """Batch the inputs (each view for self-training) and record the resize and padding."""
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
                sample.set_metainfo(
                    dict(
                        img_shape=(new_h, new_w),
                        scale_factor=(new_w / w, new_h / h),
                        pad_shape=(self.img_size, self.img_size),
                        batch_input_shape=(self.img_size, self.img_size),
                        pad_offset=self.pad_offset(new_h, new_w),
                    )
                )
        return dict(inputs=out_inputs, data_samples=data_samples)
