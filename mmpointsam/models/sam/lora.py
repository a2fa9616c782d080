"""LoRA on the attention projections of SAM's image encoder, built with ``peft``.

SAM's attention computes q, k and v with one fused ``qkv`` Linear, while the papers adapt q and v
only. :class:`SplitQKV` replaces the fused layer by three Linears that ``peft`` can target one by
one, and converts state dicts so that official checkpoints (fused ``qkv.weight``) still load
and merged exports are fused again.
"""

import re
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
import torch.nn as nn

_PROJECTIONS = ('q', 'k', 'v')


class SplitQKV(nn.Module):
    """Drop-in replacement of a fused ``qkv`` Linear as three Linears named q, k and v.

    Its forward returns ``cat([q(x), k(x), v(x)], -1)``, exactly what the fused layer returned. A
    load pre-hook splits a fused ``weight``/``bias`` found in a state dict, so a checkpoint in the
    original layout loads unchanged.
    """

    def __init__(self, fused: nn.Linear) -> None:
        super().__init__()
        dim = fused.out_features // 3
        has_bias = fused.bias is not None
        for i, name in enumerate(_PROJECTIONS):
            linear = nn.Linear(
                fused.in_features,
                dim,
                bias=has_bias,
                device=fused.weight.device,
                dtype=fused.weight.dtype,
            )
            with torch.no_grad():
                linear.weight.copy_(fused.weight[i * dim : (i + 1) * dim])
                if has_bias:
                    linear.bias.copy_(fused.bias[i * dim : (i + 1) * dim])
            setattr(self, name, linear)
        self._register_load_state_dict_pre_hook(self._split_fused_state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.q(x), self.k(x), self.v(x)], dim=-1)

    def _split_fused_state(self, state_dict, prefix, *args, **kwargs) -> None:
        for param in ('weight', 'bias'):
            fused = state_dict.pop(prefix + param, None)
            if fused is None:
                continue
            for name, chunk in zip(_PROJECTIONS, fused.chunk(3, dim=0)):
                state_dict[f'{prefix}{name}.{param}'] = chunk

    def fused_state(self) -> Dict[str, torch.Tensor]:
        """Weight and bias of the equivalent fused Linear, LoRA deltas merged in."""
        weights, biases = [], []
        for name in _PROJECTIONS:
            child = getattr(self, name)
            base = getattr(child, 'base_layer', child)
            weight = base.weight.detach().clone()
            if hasattr(child, 'get_delta_weight'):
                for adapter in child.active_adapters:
                    if adapter in child.lora_A:
                        weight += child.get_delta_weight(adapter)
            weights.append(weight)
            if base.bias is not None:
                biases.append(base.bias.detach().clone())
        state = dict(weight=torch.cat(weights, 0))
        if biases:
            state['bias'] = torch.cat(biases, 0)
        return state


def attention_qkv_names(encoder: nn.Module) -> List[str]:
    """Names of the ``qkv`` projections of ``encoder`` in forward (block) order."""
    return [
        name
        for name, module in encoder.named_modules()
        if name.endswith('qkv') and isinstance(module, (nn.Linear, SplitQKV))
    ]


def _select_blocks(
    num_blocks: int, blocks: Optional[Union[Sequence[int], int]], first_block: int
) -> List[int]:
    if blocks is None:
        if not 0 <= first_block < num_blocks:
            raise ValueError(
                f'first_block={first_block} but the encoder has {num_blocks} attention blocks'
            )
        return list(range(first_block, num_blocks))
    selected = sorted(set(int(b) for b in blocks))
    bad = [b for b in selected if not 0 <= b < num_blocks]
    if bad:
        raise ValueError(
            f'LoRA blocks {bad} do not exist: the encoder has {num_blocks} '
            'attention blocks (0-based)'
        )
    return selected


def apply_lora(
    encoder: nn.Module,
    r: int = 4,
    alpha: Optional[float] = None,
    dropout: float = 0.0,
    targets: Iterable[str] = ('q', 'v'),
    first_block: int = 0,
    blocks: Optional[Sequence[int]] = None,
) -> List[str]:
    """Inject LoRA adapters into the attention of ``encoder`` in place.

    Args:
        encoder: a SAM image encoder (ViT or TinyViT): any module whose attention blocks own a
            ``qkv`` Linear.
        r: LoRA rank.
        alpha: LoRA scaling numerator (``lora_alpha``); defaults to ``r`` (scale 1).
        dropout: dropout on the LoRA branch.
        targets: which projections to adapt, among ``q``, ``k``, ``v`` and ``proj`` (the output
            projection).
        first_block: adapt attention blocks from this index on (0-based, forward order), as the
            papers do ("LoRA from block 6").
        blocks: explicit block indices; overrides ``first_block``.

    Returns:
        The names of the adapted Linear modules.
    """
    from peft import LoraConfig, inject_adapter_in_model

    targets = tuple(targets)
    unknown = set(targets) - set(_PROJECTIONS + ('proj',))
    if not targets or unknown:
        raise ValueError(f'LoRA targets must be a non-empty subset of q, k, v, proj; got {targets}')
    qkv_names = attention_qkv_names(encoder)
    if not qkv_names:
        raise ValueError(f'{type(encoder).__name__} has no attention qkv projection to adapt')
    selected = _select_blocks(len(qkv_names), blocks, first_block)

    module_names = []
    for idx in selected:
        qkv_name = qkv_names[idx]
        attn_name, _, _ = qkv_name.rpartition('.')
        attn = encoder.get_submodule(attn_name)
        if any(t in _PROJECTIONS for t in targets) and isinstance(attn.qkv, nn.Linear):
            attn.qkv = SplitQKV(attn.qkv)
        for t in targets:
            module_names.append(f'{qkv_name}.{t}' if t in _PROJECTIONS else f'{attn_name}.proj')

    # peft matches target names as suffixes; anchor them so that e.g. `blocks.1.` does not also
    # match `layers.0.blocks.1.` of another stage
    pattern = '^(' + '|'.join(re.escape(n) for n in module_names) + ')$'
    config = LoraConfig(
        r=r,
        lora_alpha=alpha if alpha is not None else r,
        lora_dropout=dropout,
        target_modules=pattern,
        bias='none',
    )
    inject_adapter_in_model(config, encoder)
    for name in module_names:
        encoder.get_submodule(name)._register_load_state_dict_pre_hook(_redirect_to_base_layer)
    return module_names


def _redirect_to_base_layer(state_dict, prefix, *args, **kwargs) -> None:
    """Load a plain Linear's ``weight``/``bias`` into the ``base_layer`` that peft wrapped.

    Load pre-hooks run parent first, so a split ``qkv`` hands ``q.weight`` down to this hook.
    """
    for param in ('weight', 'bias'):
        if prefix + param in state_dict:
            state_dict[f'{prefix}base_layer.{param}'] = state_dict.pop(prefix + param)


def is_lora_parameter(name: str) -> bool:
    return 'lora_' in name


def merged_state_dict(module: nn.Module) -> Dict[str, torch.Tensor]:
    """State dict of ``module`` in the original (official SAM) layout, LoRA merged.

    Adapted Linears are folded back (``W + scale * B @ A``) and split projections fused, so the
    result loads strictly into a plain SAM with no LoRA, e.g. ``segment_anything``'s own builder.
    """
    state = {}
    split_prefixes = []
    for name, sub in module.named_modules():
        if isinstance(sub, SplitQKV):
            prefix = f'{name}.' if name else ''
            split_prefixes.append(prefix)
            for key, value in sub.fused_state().items():
                state[prefix + key] = value
    for name, sub in module.named_modules():
        if hasattr(sub, 'base_layer') and hasattr(sub, 'get_delta_weight'):
            if any(name.startswith(p) for p in split_prefixes):
                continue
            prefix = f'{name}.' if name else ''
            weight = sub.base_layer.weight.detach().clone()
            for adapter in sub.active_adapters:
                if adapter in sub.lora_A:
                    weight += sub.get_delta_weight(adapter)
            state[prefix + 'weight'] = weight
            if sub.base_layer.bias is not None:
                state[prefix + 'bias'] = sub.base_layer.bias.detach().clone()
    for key, value in module.state_dict().items():
        if is_lora_parameter(key) or '.base_layer.' in key:
            continue
        if any(key.startswith(p) for p in split_prefixes):
            continue
        state[key] = value.detach().clone()
    return state
