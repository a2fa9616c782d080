"""SAM 2 / SAM 2.1 (Hiera) for single images, built from the official ``sam2`` package's modules.

Only the image path of ``SAM2Base`` is built: the Hiera trunk and FPN neck (``image_encoder``),
``sam_prompt_encoder``, ``sam_mask_decoder`` (with its high-resolution skip convolutions
``conv_s0``/``conv_s1``) and ``no_mem_embed``, under the official attribute names, so the image
part of an official checkpoint (``sam2.1_hiera_base_plus.pt``, weights under ``model``) loads
strictly. The video-only tensors listed in :data:`VIDEO_ONLY_PREFIXES` are skipped by name.

The interface is :class:`~mmpointsam.models.sam.SAM`'s, so every method runs on it unchanged.
:meth:`SAM2.encode` returns one tensor (B, 4C, S/16, S/16) holding the image embedding (first C
channels) and the two high-resolution maps, pixel-unshuffled onto the same grid: the maps are
computed once per image, shared by all its prompts, and travel (batch indexing, detach, chunked
backward) with the embedding. :meth:`SAM2.image_embedding` gives the C-channel embedding that
PBR and ReSAM's alignment use.
"""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.runner.checkpoint import CheckpointLoader

from mmpointsam.registry import MODELS

from . import prompt_batched_decoder as pbd
from .lora import apply_lora
from .sam_base import PromptableSAMBase, build_from_cfg

# Hiera trunk presets of the SAM 2.1 configs (sam2/configs/sam2.1/*.yaml); `tiny` is for tests.
ARCH_SETTINGS: Dict[str, dict] = {
    'hiera_t': dict(
        embed_dim=96,
        num_heads=1,
        stages=(1, 2, 7, 2),
        global_att_blocks=(5, 7, 9),
        window_pos_embed_bkg_spatial_size=(7, 7),
        window_spec=(8, 4, 14, 7),
    ),
    'hiera_s': dict(
        embed_dim=96,
        num_heads=1,
        stages=(1, 2, 11, 2),
        global_att_blocks=(7, 10, 13),
        window_pos_embed_bkg_spatial_size=(7, 7),
        window_spec=(8, 4, 14, 7),
    ),
    'hiera_b+': dict(
        embed_dim=112,
        num_heads=2,
        stages=(2, 3, 16, 3),
        global_att_blocks=(12, 16, 20),
        window_pos_embed_bkg_spatial_size=(14, 14),
        window_spec=(8, 4, 14, 7),
    ),
    'hiera_l': dict(
        embed_dim=144,
        num_heads=2,
        stages=(2, 6, 36, 4),
        global_att_blocks=(23, 33, 43),
        window_pos_embed_bkg_spatial_size=(7, 7),
        window_spec=(8, 4, 16, 8),
    ),
    'tiny': dict(
        embed_dim=16,
        num_heads=1,
        stages=(1, 1, 2, 1),
        global_att_blocks=(3,),
        window_pos_embed_bkg_spatial_size=(4, 4),
        window_spec=(4, 2, 2, 2),
    ),
}
# Prompt-encoder / mask-decoder presets: SAM 2's own, and a narrow one for tests.
DECODER_SETTINGS: Dict[str, dict] = {
    'sam2': dict(embed_dim=256, mlp_dim=2048, num_heads=8, iou_head_hidden_dim=256),
    'tiny': dict(embed_dim=32, mlp_dim=64, num_heads=2, iou_head_hidden_dim=32),
}
# Tensors of an official SAM 2 / 2.1 checkpoint that only its video (memory) path uses. They are
# skipped by these exact names/prefixes when loading; any other unknown key is an error.
VIDEO_ONLY_PREFIXES = (
    'memory_attention.',
    'memory_encoder.',
    'mask_downsample.',
    'obj_ptr_proj.',
    'obj_ptr_tpos_proj.',
    'maskmem_tpos_enc',
    'no_mem_pos_enc',
    'no_obj_ptr',
    'no_obj_embed_spatial',
)
# SAM 2's mask decoder (SAM2Base defaults of the 2.1 configs, and build_sam2's post-processing:
# a single-mask answer whose stability is below 0.98 falls back to the best multimask one).
MASK_DECODER_FLAGS = dict(
    use_high_res_features=True,
    iou_prediction_use_sigmoid=True,
    pred_obj_scores=True,
    pred_obj_scores_mlp=True,
    use_multimask_token_for_obj_ptr=True,
    dynamic_multimask_via_stability=True,
    dynamic_multimask_stability_delta=0.05,
    dynamic_multimask_stability_thresh=0.98,
)
BACKBONE_STRIDE = 16
# the trunk's first stage (stride 4) tiles its window position embedding, and the last stage
# has stride 32
SIZE_MULTIPLE = 32
_ALIASES = {'mask_decoder': 'sam_mask_decoder', 'prompt_encoder': 'sam_prompt_encoder'}


def is_video_only_key(key: str) -> bool:
    """Whether an official SAM 2 checkpoint key belongs to the video (memory) path only."""
    return any(key == p.rstrip('.') or key.startswith(p) for p in VIDEO_ONLY_PREFIXES)


def checkpoint_arch(state: Dict[str, torch.Tensor]) -> Optional[str]:
    """The Hiera preset of an official SAM 2 state dict (width and depth), None if not SAM 2."""
    patch = state.get('image_encoder.trunk.patch_embed.proj.weight')
    if patch is None:
        return None
    depth = len({k.split('.')[3] for k in state if k.startswith('image_encoder.trunk.blocks.')})
    for name, arch in ARCH_SETTINGS.items():
        if arch['embed_dim'] == patch.shape[0] and sum(arch['stages']) == depth:
            return name
    raise ValueError(
        f'SAM 2 weights of an unknown Hiera (embed_dim={patch.shape[0]}, {depth} blocks)'
    )


def build_image_encoder(arch: dict, embed_dim: int) -> nn.Module:
    """``sam2``'s ImageEncoder: Hiera trunk + FPN neck (strides 4-16 kept, ``scalp=1``)."""
    from sam2.modeling.backbones.hieradet import Hiera
    from sam2.modeling.backbones.image_encoder import FpnNeck, ImageEncoder
    from sam2.modeling.position_encoding import PositionEmbeddingSine

    arch = dict(arch)
    trunk = Hiera(
        embed_dim=arch['embed_dim'],
        num_heads=arch['num_heads'],
        stages=tuple(arch['stages']),
        global_att_blocks=tuple(arch['global_att_blocks']),
        window_pos_embed_bkg_spatial_size=tuple(arch['window_pos_embed_bkg_spatial_size']),
        window_spec=tuple(arch['window_spec']),
    )
    neck = FpnNeck(
        position_encoding=PositionEmbeddingSine(
            num_pos_feats=embed_dim, normalize=True, scale=None, temperature=10000
        ),
        d_model=embed_dim,
        backbone_channel_list=list(trunk.channel_list),
        fpn_top_down_levels=[2, 3],
        fpn_interp_model='nearest',
    )
    return ImageEncoder(trunk=trunk, neck=neck, scalp=1)


def pack_features(
    embedding: torch.Tensor, feat_s1: torch.Tensor, feat_s0: torch.Tensor
) -> torch.Tensor:
    """(B, C, h, w), (B, C/4, 2h, 2w), (B, C/8, 4h, 4w) -> one (B, 4C, h, w) tensor (exact)."""
    return torch.cat([embedding, F.pixel_unshuffle(feat_s1, 2), F.pixel_unshuffle(feat_s0, 4)], 1)


def unpack_features(packed: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inverse of :func:`pack_features`: embedding, stride-8 and stride-4 maps."""
    c = packed.shape[1] // 4
    emb, s1, s0 = packed.split([c, c, 2 * c], dim=1)
    return emb, F.pixel_shuffle(s1, 2), F.pixel_shuffle(s0, 4)


@MODELS.register_module()
class SAM2(PromptableSAMBase):
    """SAM 2 / SAM 2.1 image model (Hiera trunk), a drop-in for :class:`SAM` in every method.

    Args:
        arch: a Hiera preset (``hiera_t``, ``hiera_s``, ``hiera_b+`` (default), ``hiera_l``,
            ``tiny``) or a dict like the values of :data:`ARCH_SETTINGS`.
        decoder: ``sam2`` (256 wide) or ``tiny``, or such a dict; ``tiny`` for ``arch='tiny'``.
        img_size: square input side (SAM 2: 1024), a multiple of 32.
        lora: keyword arguments of :func:`apply_lora` on Hiera's attention (its fused ``qkv``;
            ``first_block`` counts Hiera blocks, 24 for B+), or None.
        trainable: name prefixes that train (``mask_decoder``/``prompt_encoder`` mean the
            ``sam_`` modules); LoRA parameters always train.
        encoder_autocast, prompt_batched_decoder, decoder_chunk_size: as in :class:`SAM`.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)``: an official SAM 2/2.1 file,
            loaded strictly except the video-only keys (:data:`VIDEO_ONLY_PREFIXES`).
    """

    model_name = 'SAM2'
    default_arch = 'hiera_b+'
    arch_settings = ARCH_SETTINGS
    decoder_settings = DECODER_SETTINGS
    default_decoder = 'sam2'
    embedding_stride = BACKBONE_STRIDE
    weights_name = 'SAM 2'
    checkpoint_hint = (
        'Download the official file (sam2.1_hiera_base_plus.pt, ...) there, pass '
        '--sam-checkpoint PATH, or --sam-checkpoint none for random weights.'
    )

    def _build_modules(self, arch: dict, decoder: dict, img_size: int) -> None:
        """Hiera + FPN image encoder, ``sam_prompt_encoder``, ``sam_mask_decoder`` and
        ``no_mem_embed``, as in the official ``SAM2Base``."""
        try:
            from sam2.modeling.sam.mask_decoder import MaskDecoder
            from sam2.modeling.sam.prompt_encoder import PromptEncoder
            from sam2.modeling.sam.transformer import TwoWayTransformer
        except ImportError as err:
            raise ImportError(
                'SAM2 needs the official sam2 package: SAM2_BUILD_CUDA=0 pip '
                'install --no-build-isolation sam2==1.1.0'
            ) from err

        if img_size % SIZE_MULTIPLE:
            raise ValueError(f'img_size={img_size} must be a multiple of {SIZE_MULTIPLE} for SAM2')
        self.img_size = img_size
        embed_dim = decoder['embed_dim']
        self.image_encoder = build_image_encoder(arch, embed_dim)
        self.sam_prompt_encoder, self.sam_mask_decoder = self._build_prompt_modules(
            (PromptEncoder, MaskDecoder, TwoWayTransformer), decoder, img_size, **MASK_DECODER_FLAGS
        )
        # added to the stride-16 features of a frame without memory (every single image)
        self.no_mem_embed = nn.Parameter(torch.zeros(1, 1, embed_dim))
        nn.init.trunc_normal_(self.no_mem_embed, std=0.02)

    def _apply_lora(self, lora: dict) -> List[str]:
        """LoRA on the Hiera trunk; names inside ``image_encoder``, as SAM's."""
        return [f'trunk.{n}' for n in apply_lora(self.image_encoder.trunk, **lora)]

    def _trainable_prefixes(self, trainable: Sequence[str]) -> Tuple[str, ...]:
        """SAM's ``mask_decoder``/``prompt_encoder`` prefixes name the ``sam_`` modules."""
        return tuple(
            _ALIASES.get(p.partition('.')[0], p.partition('.')[0]) + ''.join(p.partition('.')[1:])
            for p in trainable
        )

    # the names PointSAM and the self-training parts use
    @property
    def prompt_encoder(self) -> nn.Module:
        return self.sam_prompt_encoder

    @property
    def mask_decoder(self) -> nn.Module:
        return self.sam_mask_decoder

    # ------------------------------------------------------------------ parameters
    def _prepare_state(
        self, state: Dict[str, torch.Tensor], checkpoint: str
    ) -> Tuple[Dict[str, torch.Tensor], str]:
        """Drop the video-only keys (:data:`VIDEO_ONLY_PREFIXES`); raise when shapes differ."""
        skipped = [k for k in state if is_video_only_key(k)]
        state = {k: v for k, v in state.items() if not is_video_only_key(k)}
        mismatched = self._shape_mismatches(state)
        if mismatched:
            raise RuntimeError(
                f'{checkpoint} does not fit SAM2(arch={self.arch_name!r}, img_size='
                f'{self.img_size}): {len(mismatched)} tensors differ in shape, e.g. '
                f'{mismatched[0][0]} {mismatched[0][1]} in the file vs {mismatched[0][2]}; '
                'is it another Hiera size (hiera_t/s/b+/l)?'
            )
        return state, (
            f' ({len(skipped)} video-only tensors skipped: memory '
            'attention/encoder, object pointers)'
        )

    def _describe(self) -> str:
        return f'SAM2(arch={self.arch_name!r})'

    # ------------------------------------------------------------------ forward parts
    def _split_encoded(self, encoded: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The C-channel image embedding and the stride-8 and stride-4 maps
        (:func:`unpack_features`)."""
        return unpack_features(encoded)

    def image_embedding(self, encoded: torch.Tensor) -> torch.Tensor:
        """The C-channel image embedding inside :meth:`encode`'s output (for PBR, alignment)."""
        return encoded[:, : encoded.shape[1] // 4]

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 4C, S/16, S/16): the image embedding and the decoder's high-resolution maps
        (:func:`pack_features`)."""
        fpn = self._run_encoder(images)['backbone_fpn']  # strides 4, 8, 16
        emb = fpn[-1] + self.no_mem_embed.view(1, -1, 1, 1)
        return pack_features(
            emb, self.sam_mask_decoder.conv_s1(fpn[1]), self.sam_mask_decoder.conv_s0(fpn[0])
        )

    def _prompt_embeddings(self, points, point_labels, boxes, mask_inputs):
        # like SAM2ImagePredictor: a box is two corner points labelled 2 and 3 ahead of the clicks
        if boxes is not None:
            box_pts = boxes.reshape(-1, 2, 2)
            box_lbl = torch.tensor([2, 3], device=boxes.device).expand(len(boxes), 2)
            if points is not None:
                points = torch.cat([box_pts, points.to(box_pts.dtype)], dim=1)
                point_labels = torch.cat([box_lbl.to(point_labels.dtype), point_labels], dim=1)
            else:
                points, point_labels = box_pts, box_lbl
        return self.sam_prompt_encoder(
            points=(points, point_labels) if points is not None else None,
            boxes=None,
            masks=mask_inputs,
        )

    def _output_tokens(self, multimask_output: bool) -> Tuple[slice, bool]:
        """Single-mask answers follow SAM 2 (``dynamic_multimask_via_stability`` when the
        decoder is in eval mode): all tokens are decoded and reduced."""
        dec = self.sam_mask_decoder
        dynamic = not multimask_output and dec.dynamic_multimask_via_stability and not dec.training
        tokens = slice(1, None) if multimask_output else slice(None) if dynamic else slice(0, 1)
        return tokens, dynamic

    def _dynamic_single_mask(
        self, masks: torch.Tensor, iou: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.sam_mask_decoder._dynamic_multimask_via_stability(masks, iou)

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
        """SAM 2's decoder with the image's high-resolution maps, shared by all its prompts."""
        emb, feat_s1, feat_s0 = features
        high_res = [feat_s0, feat_s1]
        if batched:
            return predict_masks_high_res(
                self.sam_mask_decoder,
                emb,
                image_pe,
                sparse,
                dense,
                high_res,
                tokens,
                chunk_size=chunk_size,
            )
        masks, iou, _, _ = self.sam_mask_decoder.predict_masks(
            image_embeddings=emb,
            image_pe=image_pe,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            repeat_image=True,
            high_res_features=high_res,
        )
        return masks[:, tokens], iou[:, tokens]


def predict_masks_high_res(
    decoder,
    image_embedding: torch.Tensor,
    image_pe: torch.Tensor,
    sparse: torch.Tensor,
    dense: torch.Tensor,
    high_res: List[torch.Tensor],
    mask_tokens: slice = slice(None),
    chunk_size: Optional[int] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """SAM 2's ``MaskDecoder.predict_masks`` for P prompts on one image: the two-way
    transformer of :mod:`.prompt_batched_decoder` (image side shared), then the upscaling with
    the image's high-resolution maps ``[s0 (1, C/8, 4h, 4w), s1 (1, C/4, 2h, 2w)]`` broadcast
    over the prompts. Returns masks (P, K, 4h, 4w) and IoU predictions (P, K)."""
    p = sparse.shape[0]
    h, w = image_embedding.shape[-2:]
    image = pbd.shared_image_side(decoder.transformer, image_embedding + dense, image_pe)
    output_tokens = torch.cat(
        [decoder.obj_score_token.weight, decoder.iou_token.weight, decoder.mask_tokens.weight],
        dim=0,
    )
    token_ids = range(decoder.num_mask_tokens)[mask_tokens]
    dc1, ln1, act1, dc2, act2 = decoder.output_upscaling
    feat_s0, feat_s1 = high_res
    chunk_size = chunk_size or max(p, 1)
    masks, ious = [], []
    for start in range(0, p, chunk_size):
        chunk = sparse[start : start + chunk_size]
        tokens = torch.cat([output_tokens.unsqueeze(0).expand(len(chunk), -1, -1), chunk], dim=1)
        hs, keys = pbd.two_way_transformer(decoder.transformer, image, tokens)
        src = keys.transpose(1, 2).reshape(len(chunk), -1, h, w)
        up = act1(ln1(dc1(src) + feat_s1))
        up = act2(dc2(up) + feat_s0)
        hyper_in = torch.stack(
            [decoder.output_hypernetworks_mlps[i](hs[:, 2 + i, :]) for i in token_ids], dim=1
        )
        masks.append((hyper_in @ up.flatten(2)).view(len(chunk), -1, 4 * h, 4 * w))
        ious.append(decoder.iou_prediction_head(hs[:, 1, :])[:, mask_tokens])
    return torch.cat(masks), torch.cat(ious)


def official_checkpoint(
    state: Dict[str, torch.Tensor], video_weights: Optional[str] = None
) -> dict:
    """An exported image-path state dict as an official SAM 2 file (weights under ``model``).

    With ``video_weights`` (the official file the model started from) its video-only tensors
    are copied in, so the result also loads strictly through ``sam2.build_sam.build_sam2`` and
    the video predictor; without it the official image modules load it strictly.
    """
    if video_weights is not None:
        source = CheckpointLoader.load_checkpoint(video_weights, map_location='cpu')
        source = source.get('model', source)
        video = {k: v for k, v in source.items() if is_video_only_key(k)}
        if not video:
            raise ValueError(
                f'{video_weights} holds no SAM 2 video-only tensors '
                f'({", ".join(VIDEO_ONLY_PREFIXES)})'
            )
        state = dict(state, **video)
    return dict(model=state)


def build_sam2(cfg: Union[dict, str], **kwargs) -> SAM2:
    """Build a :class:`SAM2` from a config dict or an arch name (``build_sam2('hiera_b+')``)."""
    return build_from_cfg(cfg, 'SAM2', **kwargs)
