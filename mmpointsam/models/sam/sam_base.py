"""What SAM and SAM 2 share: config handling, LoRA/trainable set-up, strict checkpoint loading,
bf16 encoding and the per-image prompt decoding loop.

Subclasses build their own modules (under the official attribute names, so official checkpoints
load strictly) and fill in the small architecture hooks (``_build_modules``, ``_prepare_state``,
``_encode``, ``_predict_masks``, ...).
"""

import copy
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import CheckpointLoader
from torch.nn.modules.batchnorm import _BatchNorm

from mmpointsam.registry import MODELS

from .lora import apply_lora, is_lora_parameter, merged_state_dict


def read_state_dict(checkpoint: str) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint file or URL: unwrapped from ``state_dict``/``model`` and
    without DataParallel's ``module.`` prefix."""
    state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    return {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}


def build_from_cfg(cfg: Union[dict, str], default_type: str, **kwargs) -> nn.Module:
    """Build a registered model from a config dict or an arch name, ``type`` defaulting to
    ``default_type``."""
    if isinstance(cfg, str):
        cfg = dict(arch=cfg)
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('type', default_type)
    cfg.update(kwargs)
    return MODELS.build(cfg)


class CompiledEncoder:
    """``torch.compile`` of an encoder, made on first call, with eager fallback.

    A failure to compile (when ``torch.compile`` is called, or when the first compiled call
    raises while the eager module runs the same input fine) warns once and runs eager from then
    on. Held outside the module tree so state dicts keep their keys; a deep copy (an EMA teacher)
    starts uncompiled, since a compiled graph belongs to the module it was traced from.
    """

    def __init__(self) -> None:
        self.fn = None
        self.failed = False

    def __deepcopy__(self, memo) -> 'CompiledEncoder':
        return CompiledEncoder()

    def __getstate__(self) -> dict:
        return dict(fn=None, failed=self.failed)

    def _fail(self, err: Exception) -> None:
        self.failed, self.fn = True, None
        warnings.warn(
            f'torch.compile of the image encoder failed ({type(err).__name__}: {err}); '
            'running it eagerly',
            stacklevel=3,
        )

    def __call__(self, module: nn.Module, images: torch.Tensor, options: dict):
        """``module(images)``, compiled if that works."""
        if self.failed:
            return module(images)
        if self.fn is None:
            try:
                self.fn = torch.compile(module, **options)
            except Exception as err:  # a missing compiler, an unsupported platform, ...
                self._fail(err)
                return module(images)
        try:
            return self.fn(images)
        except Exception as err:
            out = module(images)  # an error of the input itself raises here, uncaught
            self._fail(err)
            return out


class PromptableSAMBase(BaseModule):
    """Image encoder + prompt encoder + mask decoder with SAM's interface (``encode``,
    ``decode``, ``image_embedding``, ``load_checkpoint``, ``export_state_dict``).

    Arguments are those of :class:`~mmpointsam.models.sam.SAM`. Subclasses set the class
    attributes below and implement :meth:`_build_modules`, :meth:`_encode` and
    :meth:`_predict_masks`; the other hooks have SAM's behaviour by default.
    """

    mask_threshold = 0.0
    # name in messages, the encoder preset of ``arch=None``, presets, the default decoder
    # preset and the input stride of the image embedding
    model_name: str = ''
    default_arch: str = ''
    arch_settings: Dict[str, dict] = {}
    decoder_settings: Dict[str, dict] = {}
    default_decoder: str = ''
    embedding_stride: int = 16
    # how the RANDOM-weights warning names the expected weights, and where to get a file
    weights_name: str = ''
    checkpoint_hint: str = ''

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
        compile_encoder: Union[bool, dict] = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(compile_encoder, (bool, dict)):
            raise TypeError(
                'compile_encoder must be True, False or a dict of torch.compile arguments, '
                f'got {compile_encoder!r}'
            )
        self.compile_encoder = compile_encoder
        self._compiled = CompiledEncoder()
        self.prompt_batched_decoder = prompt_batched_decoder
        self.decoder_chunk_size = dict(decoder_chunk_size or {})
        if encoder_autocast not in (None, 'bf16'):
            raise ValueError(f'encoder_autocast must be None or "bf16", got {encoder_autocast!r}')
        self.encoder_autocast = encoder_autocast
        if arch is None:
            arch = self.default_arch
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise ValueError(
                    f'unknown {self.model_name} arch {arch!r}; choose from '
                    f'{sorted(self.arch_settings)}'
                )
            self.arch_name = arch
            arch = self.arch_settings[arch]
        else:
            self.arch_name = 'custom'
        if decoder is None:
            decoder = 'tiny' if self.arch_name == 'tiny' else self.default_decoder
        if isinstance(decoder, str):
            decoder = self.decoder_settings[decoder]
        self._build_modules(arch, decoder, img_size)

        self.lora_modules: List[str] = []
        if lora is not None:
            self.lora_modules = self._apply_lora(lora)
        self.trainable = self._trainable_prefixes(trainable)
        self._set_trainable()

    def _run_encoder(self, images: torch.Tensor):
        """``self.image_encoder(images)``, through ``torch.compile`` with ``compile_encoder``."""
        if self.compile_encoder is False:
            return self.image_encoder(images)
        options = {} if self.compile_encoder is True else dict(self.compile_encoder)
        return self._compiled(self.image_encoder, images, options)

    # ------------------------------------------------------------------ hooks
    def _build_modules(self, arch: dict, decoder: dict, img_size: int) -> None:
        """Check ``img_size``, set ``self.img_size`` and build the encoder, prompt encoder and
        mask decoder under the official attribute names."""
        raise NotImplementedError

    def _build_prompt_modules(
        self, classes: Tuple[type, type, type], decoder: dict, img_size: int, **decoder_flags
    ) -> Tuple[nn.Module, nn.Module]:
        """Prompt encoder and mask decoder of a ``decoder`` preset, from ``classes``: the
        (PromptEncoder, MaskDecoder, TwoWayTransformer) of segment-anything or of sam2."""
        prompt_encoder_cls, mask_decoder_cls, transformer_cls = classes
        embed_dim = decoder['embed_dim']
        grid = img_size // self.embedding_stride
        prompt_encoder = prompt_encoder_cls(
            embed_dim=embed_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(img_size, img_size),
            mask_in_chans=16,
        )
        mask_decoder = mask_decoder_cls(
            num_multimask_outputs=3,
            transformer=transformer_cls(
                depth=2,
                embedding_dim=embed_dim,
                mlp_dim=decoder['mlp_dim'],
                num_heads=decoder['num_heads'],
            ),
            transformer_dim=embed_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=decoder['iou_head_hidden_dim'],
            **decoder_flags,
        )
        return prompt_encoder, mask_decoder

    def _apply_lora(self, lora: dict) -> List[str]:
        """Add LoRA to the image encoder; returns the adapted modules' names in it."""
        return apply_lora(self.image_encoder, **lora)

    def _trainable_prefixes(self, trainable: Sequence[str]) -> Tuple[str, ...]:
        """Parameter-name prefixes that train, as given in the config."""
        return tuple(trainable)

    def _prepare_state(
        self, state: Dict[str, torch.Tensor], checkpoint: str
    ) -> Tuple[Dict[str, torch.Tensor], str]:
        """Check a file's weights against this model before loading; returns the weights to
        load and a note for the log line."""
        return state, ''

    def _describe(self) -> str:
        """This model in load errors, e.g. ``SAM(arch='vit_b', img_size=1024)``."""
        return f'{self.model_name}(arch={self.arch_name!r}, img_size={self.img_size})'

    def _encode(self, images: torch.Tensor) -> torch.Tensor:
        """The encoder's output for :meth:`encode`, in whatever dtype it computes."""
        raise NotImplementedError

    def _split_encoded(self, encoded: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """:meth:`encode`'s output as per-image tensors, the image embedding first."""
        return (encoded,)

    def _prompt_embeddings(
        self, points, point_labels, boxes, mask_inputs
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Sparse and dense prompt embeddings of the N prompts."""
        return self.prompt_encoder(
            points=(points, point_labels) if points is not None else None,
            boxes=boxes,
            masks=mask_inputs,
        )

    def _output_tokens(self, multimask_output: bool) -> Tuple[slice, bool]:
        """Mask tokens to decode, and whether single-mask answers pick dynamically."""
        # SAM's mask token 0 is the single-mask output, tokens 1-3 the multimask ones
        return (slice(1, None) if multimask_output else slice(0, 1)), False

    def _dynamic_single_mask(
        self, masks: torch.Tensor, iou: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Reduce all tokens' masks to the single-mask answer (when :meth:`_output_tokens`
        says dynamic)."""
        raise NotImplementedError

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
        """One image's masks (P, K, 4h, 4w) and IoU (P, K) for its P prompts, ``tokens`` kept;
        ``batched``: with :mod:`.prompt_batched_decoder` (``dense`` is then one row)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ parameters
    def _set_trainable(self) -> None:
        for name, param in self.named_parameters():
            param.requires_grad = is_lora_parameter(name) or any(
                name == p or name.startswith(p + '.') for p in self.trainable
            )

    def train(self, mode: bool = True) -> 'PromptableSAMBase':
        """Keep frozen BatchNorm layers (TinyViT) in eval mode so their statistics stay put."""
        super().train(mode)
        if mode:
            for module in self.modules():
                if isinstance(module, _BatchNorm) and not any(
                    p.requires_grad for p in module.parameters()
                ):
                    module.eval()
        return self

    def init_weights(self) -> None:
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            self.load_checkpoint(self.init_cfg['checkpoint'])
            self._is_init = True
        else:
            if self.init_cfg is None and not getattr(self, '_is_init', False):
                print_log(
                    f'{self.model_name}({self.arch_name}): no checkpoint in init_cfg, '
                    f'weights are RANDOM; masks mean nothing until {self.weights_name} '
                    "weights are given (init_cfg=dict(type='Pretrained', checkpoint=...)).",
                    logger='current',
                    level=30,
                )
            super().init_weights()

    def load_checkpoint(self, checkpoint: str) -> None:
        """Load an official checkpoint (path or URL) strictly; only LoRA parameters may be
        absent from it.

        Raises:
            FileNotFoundError: for a local path that is not a file.
            RuntimeError: naming the file and the keys that are missing, unexpected or
                misshapen.
        """
        if '://' not in str(checkpoint) and not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'{self.model_name} checkpoint {checkpoint} not found. {self.checkpoint_hint}'
            )
        note = self.check_state(read_state_dict(checkpoint), checkpoint, load=True)
        print_log(
            f'{self.model_name}({self.arch_name}): loaded {checkpoint} strictly{note}',
            logger='current',
        )
        self._set_trainable()

    def check_state(
        self, state: Dict[str, torch.Tensor], checkpoint: str, load: bool = False
    ) -> str:
        """Raise RuntimeError naming ``checkpoint`` if ``state`` (official layout) does not fit
        this model (another arch or size, missing or unexpected keys; only LoRA parameters may
        be absent); with ``load``, load it. Returns the note of :meth:`_prepare_state`.

        Without ``load`` the weights are assigned, not copied: the input check
        (:mod:`mmpointsam.utils.input_checks`) runs it on a meta-device model, so the fault it
        reports before anything is built is the one loading would raise.
        """
        state, note = self._prepare_state(state, checkpoint)
        incompatible = self.load_state_dict(state, strict=False, assign=not load)
        missing = [k for k in incompatible.missing_keys if not is_lora_parameter(k)]
        unexpected = list(incompatible.unexpected_keys)
        if missing or unexpected:
            raise RuntimeError(
                f'{checkpoint} does not match {self._describe()}: {len(missing)} missing keys '
                f'{missing[:5]}, {len(unexpected)} unexpected keys {unexpected[:5]}'
            )
        return note

    def _shape_mismatches(self, state: Dict[str, torch.Tensor]) -> List[tuple]:
        """(key, file shape, model shape) of the file's tensors whose shape differs here."""
        own = self.state_dict()
        return [
            (k, tuple(v.shape), tuple(own[k].shape))
            for k, v in state.items()
            if k in own and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)
        ]

    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """State dict in the official layout (LoRA merged) that official code loads strictly."""
        return merged_state_dict(self)

    # ------------------------------------------------------------------ forward parts
    @property
    def embedding_size(self) -> int:
        return self.img_size // self.embedding_stride

    @property
    def low_res_size(self) -> int:
        """Side of the decoder's mask logits (4x the embedding grid, 256 for 1024 inputs)."""
        return 4 * self.embedding_size

    def image_embedding(self, encoded: torch.Tensor) -> torch.Tensor:
        """The image embedding inside :meth:`encode`'s output, for the features of PBR and
        ReSAM's alignment."""
        return self._split_encoded(encoded)[0]

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised, padded images (B, 3, S, S) -> :meth:`_encode`'s (B, *, S/16, S/16), fp32
        (or the input's dtype); with ``encoder_autocast='bf16'`` computed under bf16 autocast."""
        if self.encoder_autocast is None:
            # in the input's dtype also under an outer autocast (BF16OptimWrapper's training)
            return self._encode(images).to(images.dtype)
        with torch.autocast(images.device.type, dtype=torch.bfloat16):
            return self._encode(images).float()

    def decode(
        self,
        image_embeddings: torch.Tensor,
        batch_idx: torch.Tensor,
        points: Optional[torch.Tensor] = None,
        point_labels: Optional[torch.Tensor] = None,
        boxes: Optional[torch.Tensor] = None,
        mask_inputs: Optional[torch.Tensor] = None,
        multimask_output: bool = False,
        all_masks: bool = False,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Decode N prompts over a batch of :meth:`encode` outputs.

        Prompts are in the padded input frame (pixels of the ``img_size`` square). All prompts of
        one image go through the mask decoder in one call.

        Args:
            image_embeddings: (B, C, h, w), :meth:`encode`'s output.
            batch_idx: (N,) image index of each prompt.
            points: (N, P, 2) xy; point_labels: (N, P) with 1 positive, 0 negative and -1 padding.
            boxes: (N, 4) xyxy. mask_inputs: (N, 1, 4h, 4w) low-res mask logits.
            multimask_output: predict the three masks and keep the one with the highest
                predicted IoU (for ambiguous single clicks).
            all_masks: with ``multimask_output``, return all three (for a mask selector).

        Returns:
            Low-resolution mask logits (N, 4h, 4w) and predicted IoU (N,); with ``all_masks``
            (N, 3, 4h, 4w) and (N, 3).
        """
        num = batch_idx.numel()
        low = self.low_res_size
        keep_all = multimask_output and all_masks
        extra = (3,) if keep_all else ()
        if num == 0:
            empty = image_embeddings.new_zeros((0, *extra, low, low))
            return empty, image_embeddings.new_zeros((0, *extra))
        features = self._split_encoded(image_embeddings)
        sparse, dense = self._prompt_embeddings(points, point_labels, boxes, mask_inputs)
        image_pe = self.prompt_encoder.get_dense_pe()
        tokens, dynamic = self._output_tokens(multimask_output)
        # without mask prompts the dense embedding is the same for every prompt
        batched = self.prompt_batched_decoder and mask_inputs is None
        chunk_size = self.decoder_chunk_size.get(image_embeddings.device.type)
        logits = image_embeddings.new_empty((num, *extra, low, low))
        iou = image_embeddings.new_empty((num, *extra))
        for b in torch.unique(batch_idx).tolist():
            sel = (batch_idx == b).nonzero(as_tuple=True)[0]
            masks_b, iou_b = self._predict_masks(
                [f[b : b + 1] for f in features],
                image_pe,
                sparse[sel],
                dense[:1] if batched else dense[sel],
                tokens,
                batched,
                chunk_size,
            )
            if dynamic:
                masks_b, iou_b = self._dynamic_single_mask(masks_b, iou_b)
            if not keep_all:
                best = iou_b.argmax(dim=1)  # the mask the decoder trusts most
                arange = torch.arange(len(sel), device=best.device)
                masks_b, iou_b = masks_b[arange, best], iou_b[arange, best]
            # in the embeddings' dtype also when an outer autocast ran the decoder in bf16
            logits = logits.index_copy(0, sel, masks_b.to(logits.dtype))
            iou = iou.index_copy(0, sel, iou_b.to(iou.dtype))
        return logits, iou
