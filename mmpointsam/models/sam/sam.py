"""SAM as a registered, configurable module: ViT-B/L/H, MobileSAM's TinyViT, and tiny test variants.

The module keeps segment-anything's attribute names (``image_encoder``, ``prompt_encoder``,
``mask_decoder``) so official checkpoints load strictly. Input size, LoRA and which parts train
come from the config; weights load in :meth:`SAM.init_weights` through ``init_cfg``.
"""
import copy
import os.path as osp
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import CheckpointLoader
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, TwoWayTransformer
from torch.nn.modules.batchnorm import _BatchNorm

from mmpointsam.registry import MODELS
from . import prompt_batched_decoder
from .lora import apply_lora, is_lora_parameter, merged_state_dict
from .tiny_vit import TinyViT

# Encoder presets. ViT ones are segment-anything's; `vit_t` is MobileSAM's TinyViT; `tiny` is a
# two-block ViT for tests and quick CPU runs.
ARCH_SETTINGS: Dict[str, dict] = {
    'vit_h': dict(type='vit', embed_dim=1280, depth=32, num_heads=16,
                  global_attn_indexes=(7, 15, 23, 31)),
    'vit_l': dict(type='vit', embed_dim=1024, depth=24, num_heads=16,
                  global_attn_indexes=(5, 11, 17, 23)),
    'vit_b': dict(type='vit', embed_dim=768, depth=12, num_heads=12,
                  global_attn_indexes=(2, 5, 8, 11)),
    'vit_t': dict(type='tiny_vit', embed_dims=(64, 128, 160, 320), depths=(2, 2, 6, 2),
                  num_heads=(2, 4, 5, 10), window_sizes=(7, 7, 14, 7)),
    'tiny': dict(type='vit', embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1,),
                 window_size=4),
}
# Prompt-encoder / mask-decoder presets: SAM's own, and a narrow one for tests.
DECODER_SETTINGS: Dict[str, dict] = {
    'sam': dict(embed_dim=256, mlp_dim=2048, num_heads=8, iou_head_hidden_dim=256),
    'tiny': dict(embed_dim=32, mlp_dim=64, num_heads=2, iou_head_hidden_dim=32),
}
PATCH_SIZE = 16


def _build_image_encoder(arch: dict, img_size: int, out_chans: int) -> nn.Module:
    arch = dict(arch)
    kind = arch.pop('type')
    if kind == 'vit':
        return ImageEncoderViT(
            img_size=img_size,
            patch_size=PATCH_SIZE,
            embed_dim=arch['embed_dim'],
            depth=arch['depth'],
            num_heads=arch['num_heads'],
            mlp_ratio=4.0,
            out_chans=out_chans,
            qkv_bias=True,
            norm_layer=partial(nn.LayerNorm, eps=1e-6),
            use_rel_pos=True,
            window_size=arch.get('window_size', 14),
            global_attn_indexes=tuple(arch['global_attn_indexes']),
        )
    if kind == 'tiny_vit':
        return TinyViT(img_size=img_size, out_chans=out_chans, **arch)
    raise ValueError(f'unknown image encoder type {kind!r}; expected "vit" or "tiny_vit"')


def checkpoint_arch(state: Dict[str, torch.Tensor]) -> str:
    """Name the SAM encoder preset a state dict was saved from (or describe it)."""
    if any(k.startswith('image_encoder.layers.') for k in state):
        return 'vit_t'
    patch = state.get('image_encoder.patch_embed.proj.weight')
    if patch is None:
        return 'unknown (no SAM image encoder keys)'
    width = patch.shape[0]
    depth = len({k.split('.')[2] for k in state if k.startswith('image_encoder.blocks.')})
    for name, arch in ARCH_SETTINGS.items():
        if arch['type'] == 'vit' and arch['embed_dim'] == width and arch['depth'] == depth:
            return name
    return f'ViT with embed_dim={width}, depth={depth}'


@MODELS.register_module()
class SAM(BaseModule):
    """Segment Anything: image encoder, prompt encoder and mask decoder.

    Args:
        arch: an encoder preset name (``vit_b``, ``vit_l``, ``vit_h``, ``vit_t``, ``tiny``) or a
            dict like the values of :data:`ARCH_SETTINGS`.
        decoder: a prompt-encoder/mask-decoder preset name (``sam``, ``tiny``) or such a dict.
            Defaults to ``tiny`` for ``arch='tiny'`` and to ``sam`` otherwise.
        img_size: square input side. SAM uses 1024; any multiple of 16 (64 for TinyViT) works,
            and positional embeddings, prompt grid and mask sizes follow it.
        lora: keyword arguments of :func:`apply_lora` (``r``, ``alpha``, ``dropout``,
            ``targets``, ``first_block``, ``blocks``), or None for no LoRA.
        trainable: name prefixes of sub-modules that train (e.g. ``('mask_decoder',)``). All
            other parameters are frozen, except LoRA ones, which always train.
        prompt_batched_decoder: decode the prompts of an image with
            :mod:`.prompt_batched_decoder` (same weights and mathematics as segment-anything's
            decoder, without per-prompt copies of the image side); False runs SAM's own.
        encoder_autocast: None (fp32) or ``'bf16'``: run the image encoder under bfloat16
            autocast (CPUs with AVX512-BF16/AMX and recent GPUs run it faster); the decoder and
            losses stay fp32.
        decoder_chunk_size: prompts decoded together, per device type (absent: all at once).
            On CPU a few prompts' activations stay in cache, which makes decoding 1.5-2x faster
            than one batch of 50 prompts; GPUs want large batches.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH_OR_URL)`` loads an official SAM or
            MobileSAM checkpoint strictly (only LoRA parameters may be absent from it).
    """

    mask_threshold = 0.0

    def __init__(self,
                 arch: Union[str, dict] = 'vit_b',
                 decoder: Optional[Union[str, dict]] = None,
                 img_size: int = 1024,
                 lora: Optional[dict] = None,
                 trainable: Sequence[str] = (),
                 encoder_autocast: Optional[str] = None,
                 prompt_batched_decoder: bool = True,
                 decoder_chunk_size: Optional[dict] = dict(cpu=4),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.prompt_batched_decoder = prompt_batched_decoder
        self.decoder_chunk_size = dict(decoder_chunk_size or {})
        if encoder_autocast not in (None, 'bf16'):
            raise ValueError(f'encoder_autocast must be None or "bf16", got {encoder_autocast!r}')
        self.encoder_autocast = encoder_autocast
        if isinstance(arch, str):
            if arch not in ARCH_SETTINGS:
                raise ValueError(f'unknown SAM arch {arch!r}; choose from {sorted(ARCH_SETTINGS)}')
            self.arch_name = arch
            arch = ARCH_SETTINGS[arch]
        else:
            self.arch_name = 'custom'
        if decoder is None:
            decoder = 'tiny' if self.arch_name == 'tiny' else 'sam'
        if isinstance(decoder, str):
            decoder = DECODER_SETTINGS[decoder]
        multiple = 64 if arch['type'] == 'tiny_vit' else PATCH_SIZE
        if img_size % multiple:
            raise ValueError(f'img_size={img_size} must be a multiple of {multiple} for '
                             f'{arch["type"]} encoders')
        self.img_size = img_size
        embed_dim = decoder['embed_dim']
        grid = img_size // PATCH_SIZE

        self.image_encoder = _build_image_encoder(arch, img_size, embed_dim)
        self.prompt_encoder = PromptEncoder(
            embed_dim=embed_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(img_size, img_size),
            mask_in_chans=16)
        self.mask_decoder = MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=2, embedding_dim=embed_dim, mlp_dim=decoder['mlp_dim'],
                num_heads=decoder['num_heads']),
            transformer_dim=embed_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=decoder['iou_head_hidden_dim'])

        self.lora_modules: List[str] = []
        if lora is not None:
            self.lora_modules = apply_lora(self.image_encoder, **lora)
        self.trainable = tuple(trainable)
        self._set_trainable()

    # ------------------------------------------------------------------ parameters
    def _set_trainable(self) -> None:
        for name, param in self.named_parameters():
            param.requires_grad = is_lora_parameter(name) or any(
                name == p or name.startswith(p + '.') for p in self.trainable)

    def train(self, mode: bool = True) -> 'SAM':
        """Keep frozen BatchNorm layers (TinyViT) in eval mode so their statistics stay put."""
        super().train(mode)
        if mode:
            for module in self.modules():
                if isinstance(module, _BatchNorm) and not any(
                        p.requires_grad for p in module.parameters()):
                    module.eval()
        return self

    def init_weights(self) -> None:
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            self.load_checkpoint(self.init_cfg['checkpoint'])
            self._is_init = True
        else:
            if self.init_cfg is None and not getattr(self, '_is_init', False):
                print_log(f'SAM({self.arch_name}): no checkpoint in init_cfg, weights are '
                          'RANDOM; masks mean nothing until pretrained SAM weights are given '
                          "(init_cfg=dict(type='Pretrained', checkpoint=...)).",
                          logger='current', level=30)
            super().init_weights()

    def load_checkpoint(self, checkpoint: str) -> None:
        """Load an official SAM/MobileSAM file (path or URL) strictly.

        Raises:
            RuntimeError: naming the file and the keys that are missing or unexpected.
        """
        if '://' not in str(checkpoint) and not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'SAM checkpoint {checkpoint} not found. Download the official file '
                '(sam_vit_b_01ec64.pth, mobile_sam.pt, ...) there, pass --sam-checkpoint PATH, '
                'or --sam-checkpoint none for random weights.')
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        state = ckpt
        for key in ('state_dict', 'model'):
            if isinstance(state, dict) and key in state and isinstance(state[key], dict):
                state = state[key]
        state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
        self._check_layout(state, checkpoint)
        incompatible = self.load_state_dict(state, strict=False)
        missing = [k for k in incompatible.missing_keys if not is_lora_parameter(k)]
        unexpected = list(incompatible.unexpected_keys)
        if missing or unexpected:
            raise RuntimeError(
                f'{checkpoint} does not match SAM(arch={self.arch_name!r}, '
                f'img_size={self.img_size}): {len(missing)} missing keys {missing[:5]}, '
                f'{len(unexpected)} unexpected keys {unexpected[:5]}')
        print_log(f'SAM({self.arch_name}): loaded {checkpoint} strictly', logger='current')
        self._set_trainable()

    def _check_layout(self, state: Dict[str, torch.Tensor], checkpoint: str) -> None:
        """Raise naming the file, its arch and this model's arch when shapes differ.

        PyTorch would stop with a bare size-mismatch list (e.g. a MobileSAM file in a vit_b
        config); this says which SAM the file holds instead.
        """
        own = self.state_dict()
        mismatched = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state.items()
                      if k in own and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)]
        if not mismatched:
            return
        file_arch = checkpoint_arch(state)
        raise RuntimeError(
            f'{checkpoint} holds SAM arch={file_arch!r} weights but the config builds '
            f'SAM(arch={self.arch_name!r}, img_size={self.img_size}): {len(mismatched)} tensors '
            f'differ in shape, e.g. {mismatched[0][0]} {mismatched[0][1]} in the file vs '
            f'{mismatched[0][2]} in the model. Use a config of arch {file_arch!r} '
            f'(model.sam.arch={file_arch}) or a checkpoint of arch {self.arch_name!r}.')

    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """Plain SAM state dict (LoRA merged) that official SAM code loads strictly."""
        return merged_state_dict(self)

    # ------------------------------------------------------------------ forward parts
    @property
    def embedding_size(self) -> int:
        return self.img_size // PATCH_SIZE

    @property
    def low_res_size(self) -> int:
        """Side of the decoder's mask logits (4x the embedding grid, 256 for 1024 inputs)."""
        return 4 * self.embedding_size

    def image_embedding(self, encoded: torch.Tensor) -> torch.Tensor:
        """The image embedding inside :meth:`encode`'s output (all of it for SAM; SAM2 packs
        more), for the features of PBR and ReSAM's alignment."""
        return encoded

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised, padded images (B, 3, S, S) -> image embeddings (B, C, S/16, S/16), fp32."""
        if self.encoder_autocast is None:
            # in the input's dtype also under an outer autocast (BF16OptimWrapper's training)
            return self.image_encoder(images).to(images.dtype)
        with torch.autocast(images.device.type, dtype=torch.bfloat16):
            return self.image_encoder(images).float()

    def decode(self,
               image_embeddings: torch.Tensor,
               batch_idx: torch.Tensor,
               points: Optional[torch.Tensor] = None,
               point_labels: Optional[torch.Tensor] = None,
               boxes: Optional[torch.Tensor] = None,
               mask_inputs: Optional[torch.Tensor] = None,
               multimask_output: bool = False,
               all_masks: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """Decode N prompts over a batch of image embeddings.

        Prompts are in the padded input frame (pixels of the ``img_size`` square). All prompts of
        one image go through the mask decoder in one call.

        Args:
            image_embeddings: (B, C, h, w).
            batch_idx: (N,) image index of each prompt.
            points: (N, P, 2) xy; point_labels: (N, P) with 1 positive, 0 negative and -1 padding.
            boxes: (N, 4) xyxy. mask_inputs: (N, 1, 4h, 4w) low-res mask logits.
            multimask_output: predict SAM's three masks and keep the one with the highest
                predicted IoU (for ambiguous single clicks).
            all_masks: with ``multimask_output``, return all three (for a mask selector).

        Returns:
            Low-resolution mask logits (N, 4h, 4w) and predicted IoU (N,); with ``all_masks``
            (N, 3, 4h, 4w) and (N, 3).
        """
        num = batch_idx.numel()
        low = self.low_res_size
        keep_all = multimask_output and all_masks
        extra = (3, ) if keep_all else ()
        if num == 0:
            empty = image_embeddings.new_zeros((0, *extra, low, low))
            return empty, image_embeddings.new_zeros((0, *extra))
        sparse, dense = self.prompt_encoder(
            points=(points, point_labels) if points is not None else None,
            boxes=boxes,
            masks=mask_inputs)
        image_pe = self.prompt_encoder.get_dense_pe()
        logits = image_embeddings.new_empty((num, *extra, low, low))
        iou = image_embeddings.new_empty((num, *extra))
        # SAM's mask token 0 is the single-mask output, tokens 1-3 the multimask ones
        tokens = slice(1, None) if multimask_output else slice(0, 1)
        for b in torch.unique(batch_idx).tolist():
            sel = (batch_idx == b).nonzero(as_tuple=True)[0]
            if self.prompt_batched_decoder and mask_inputs is None:
                # without mask prompts the dense embedding is the same for every prompt
                masks_b, iou_b = prompt_batched_decoder.predict_masks(
                    self.mask_decoder, image_embeddings[b:b + 1], image_pe, sparse[sel],
                    dense[:1], mask_tokens=tokens,
                    chunk_size=self.decoder_chunk_size.get(image_embeddings.device.type))
            else:
                masks_b, iou_b = self.mask_decoder.predict_masks(
                    image_embeddings=image_embeddings[b:b + 1],
                    image_pe=image_pe,
                    sparse_prompt_embeddings=sparse[sel],
                    dense_prompt_embeddings=dense[sel])
                masks_b, iou_b = masks_b[:, tokens], iou_b[:, tokens]
            if not keep_all:
                best = iou_b.argmax(dim=1)  # the mask SAM trusts most
                arange = torch.arange(len(sel), device=best.device)
                masks_b, iou_b = masks_b[arange, best], iou_b[arange, best]
            # in the embeddings' dtype also when an outer autocast ran the decoder in bf16
            logits = logits.index_copy(0, sel, masks_b.to(logits.dtype))
            iou = iou.index_copy(0, sel, iou_b.to(iou.dtype))
        return logits, iou


def build_sam(cfg: Union[dict, str], **kwargs) -> SAM:
    """Build a :class:`SAM` from a config dict or an arch name (``build_sam('vit_b')``)."""
    if isinstance(cfg, str):
        cfg = dict(arch=cfg)
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('type', 'SAM')
    cfg.update(kwargs)
    return MODELS.build(cfg)
