"""SAM as a registered, configurable module: ViT-B/L/H, MobileSAM's TinyViT, and tiny test variants.

The module keeps segment-anything's attribute names (``image_encoder``, ``prompt_encoder``,
``mask_decoder``) so official checkpoints load strictly. Input size, LoRA and which parts train
come from the config; weights load in :meth:`SAM.init_weights` through ``init_cfg``.
"""

from functools import partial
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, TwoWayTransformer

from mmpointsam.registry import MODELS

from . import prompt_batched_decoder
from .fused_attention import ATTENTION_MODES, fuse_vit_attention
from .patch_embed import PatchifyEmbed
from .sam_base import PromptableSAMBase, build_from_cfg
from .tiny_vit import TinyViT

# Encoder presets. ViT ones are segment-anything's; `vit_t` is MobileSAM's TinyViT; `tiny` is a
# two-block ViT for tests and quick CPU runs.
ARCH_SETTINGS: Dict[str, dict] = {
    'vit_h': dict(
        type='vit', embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=(7, 15, 23, 31)
    ),
    'vit_l': dict(
        type='vit', embed_dim=1024, depth=24, num_heads=16, global_attn_indexes=(5, 11, 17, 23)
    ),
    'vit_b': dict(
        type='vit', embed_dim=768, depth=12, num_heads=12, global_attn_indexes=(2, 5, 8, 11)
    ),
    'vit_t': dict(
        type='tiny_vit',
        embed_dims=(64, 128, 160, 320),
        depths=(2, 2, 6, 2),
        num_heads=(2, 4, 5, 10),
        window_sizes=(7, 7, 14, 7),
    ),
    'tiny': dict(
        type='vit', embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1,), window_size=4
    ),
}
# Prompt-encoder / mask-decoder presets: SAM's own, and a narrow one for tests.
DECODER_SETTINGS: Dict[str, dict] = {
    'sam': dict(embed_dim=256, mlp_dim=2048, num_heads=8, iou_head_hidden_dim=256),
    'tiny': dict(embed_dim=32, mlp_dim=64, num_heads=2, iou_head_hidden_dim=32),
}
PATCH_SIZE = 16


def _build_image_encoder(
    arch: dict, img_size: int, out_chans: int, attention: str = 'fused'
) -> nn.Module:
    arch = dict(arch)
    kind = arch.pop('type')
    if kind == 'vit':
        encoder = ImageEncoderViT(
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
        if attention == 'fused':
            encoder.patch_embed = PatchifyEmbed(encoder.patch_embed.proj)
            fuse_vit_attention(encoder)
        return encoder
    if kind == 'tiny_vit':
        return TinyViT(img_size=img_size, out_chans=out_chans, attention=attention, **arch)
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
class SAM(PromptableSAMBase):
    """Segment Anything: image encoder, prompt encoder and mask decoder.

    Args:
        arch: an encoder preset name (``vit_b`` (default), ``vit_l``, ``vit_h``, ``vit_t``,
            ``tiny``) or a dict like the values of :data:`ARCH_SETTINGS`.
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
        attention: ``'fused'`` runs the encoder's attention through
            ``F.scaled_dot_product_attention`` (:mod:`.fused_attention`) and the ViT's patch
            embedding as one matrix multiply (:mod:`.patch_embed`), both the same maths;
            ``'reference'`` keeps segment-anything's / MobileSAM's modules as written. Parameter
            names, and so checkpoints, are the same either way.
        compile_encoder: False, True or ``torch.compile`` keyword arguments: compile the image
            encoder on first use, falling back to eager with a warning if compiling fails.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH_OR_URL)`` loads an official SAM or
            MobileSAM checkpoint strictly (only LoRA parameters may be absent from it).
    """

    model_name = 'SAM'
    default_arch = 'vit_b'
    arch_settings = ARCH_SETTINGS
    decoder_settings = DECODER_SETTINGS
    default_decoder = 'sam'
    embedding_stride = PATCH_SIZE
    weights_name = 'pretrained SAM'
    checkpoint_hint = (
        'Download the official file (sam_vit_b_01ec64.pth, mobile_sam.pt, ...) '
        'there, pass --sam-checkpoint PATH, or --sam-checkpoint none for random '
        'weights.'
    )

    def __init__(
        self,
        arch: Optional[Union[str, dict]] = None,
        decoder: Optional[Union[str, dict]] = None,
        img_size: int = 1024,
        lora: Optional[dict] = None,
        trainable: Sequence[str] = (),
        encoder_autocast: Optional[str] = None,
        prompt_batched_decoder: bool = True,
        decoder_chunk_size: Optional[dict] = dict(cpu=4),
        attention: str = 'fused',
        compile_encoder: Union[bool, dict] = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if attention not in ATTENTION_MODES:
            raise ValueError(f'attention must be one of {ATTENTION_MODES}, got {attention!r}')
        self.attention = attention  # read by _build_modules inside the base constructor
        super().__init__(
            arch,
            decoder,
            img_size,
            lora,
            trainable,
            encoder_autocast,
            prompt_batched_decoder,
            decoder_chunk_size,
            compile_encoder,
            init_cfg,
        )

    def _build_modules(self, arch: dict, decoder: dict, img_size: int) -> None:
        """segment-anything's ViT or MobileSAM's TinyViT, prompt encoder and mask decoder."""
        multiple = 64 if arch['type'] == 'tiny_vit' else PATCH_SIZE
        if img_size % multiple:
            raise ValueError(
                f'img_size={img_size} must be a multiple of {multiple} for {arch["type"]} encoders'
            )
        self.img_size = img_size
        self.image_encoder = _build_image_encoder(
            arch, img_size, decoder['embed_dim'], self.attention
        )
        self.prompt_encoder, self.mask_decoder = self._build_prompt_modules(
            (PromptEncoder, MaskDecoder, TwoWayTransformer), decoder, img_size
        )

    def _prepare_state(
        self, state: Dict[str, torch.Tensor], checkpoint: str
    ) -> Tuple[Dict[str, torch.Tensor], str]:
        """Raise naming the file, its arch and this model's arch when shapes differ.

        PyTorch would stop with a bare size-mismatch list (e.g. a MobileSAM file in a vit_b
        config); this says which SAM the file holds instead.
        """
        mismatched = self._shape_mismatches(state)
        if mismatched:
            file_arch = checkpoint_arch(state)
            raise RuntimeError(
                f'{checkpoint} holds SAM arch={file_arch!r} weights but the config builds '
                f'SAM(arch={self.arch_name!r}, img_size={self.img_size}): {len(mismatched)} '
                f'tensors differ in shape, e.g. {mismatched[0][0]} {mismatched[0][1]} in the '
                f'file vs {mismatched[0][2]} in the model. Use a config of arch {file_arch!r} '
                f'(model.sam.arch={file_arch}) or a checkpoint of arch {self.arch_name!r}.'
            )
        return state, ''

    # ------------------------------------------------------------------ forward parts
    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        """Image embeddings (B, C, S/16, S/16)."""
        return self._run_encoder(images)

    def _predict_masks(
        self,
        features: Sequence[torch.Tensor],
        image_pe: torch.Tensor,
        sparse: torch.Tensor,
        dense: torch.Tensor,
        tokens: slice,
        batched: bool,
        chunk_size: Optional[int],
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """segment-anything's decoder, or the prompt-batched one (same weights and maths)."""
        if batched:
            return prompt_batched_decoder.predict_masks(
                self.mask_decoder,
                features[0],
                image_pe,
                sparse,
                dense,
                mask_tokens=tokens,
                chunk_size=chunk_size,
            )
        masks, iou = self.mask_decoder.predict_masks(
            image_embeddings=features[0],
            image_pe=image_pe,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
        )
        return masks[:, tokens], iou[:, tokens]


def build_sam(cfg: Union[dict, str], **kwargs) -> SAM:
    """Build a :class:`SAM` from a config dict or an arch name (``build_sam('vit_b')``)."""
    return build_from_cfg(cfg, 'SAM', **kwargs)
