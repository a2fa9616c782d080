"""Prompt decoding in chunks with a progress callback, so a bar moves within a dense image."""

from typing import Callable, Optional, Tuple

import torch

# progress(stage, done, total): prompts of ``stage`` decoded so far
ProgressFn = Callable[[str, int, int], None]


def decode_in_chunks(
    sam,
    embeddings: torch.Tensor,
    batch_idx: torch.Tensor,
    points: torch.Tensor,
    labels: torch.Tensor,
    progress: Optional[ProgressFn] = None,
    stage: str = 'decode',
    chunk_size: int = 64,
    **kwargs,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """``sam.decode`` of N prompts, ``chunk_size`` at a time when ``progress`` is given.

    Prompts are decoded independently (all share the padded width of ``points``), so the result
    equals one call; without ``progress`` it is one call.
    """
    num = batch_idx.numel()
    if progress is None or num <= chunk_size:
        out = sam.decode(embeddings, batch_idx, points, labels, **kwargs)
        if progress is not None:
            progress(stage, num, num)
        return out
    logits, iou = [], []
    for start in range(0, num, chunk_size):
        part = slice(start, start + chunk_size)
        chunk_logits, chunk_iou = sam.decode(
            embeddings, batch_idx[part], points[part], labels[part], **kwargs
        )
        logits.append(chunk_logits)
        iou.append(chunk_iou)
        progress(stage, min(start + chunk_size, num), num)
    return torch.cat(logits), torch.cat(iou)


def decode_per_image(
    sam,
    embeddings: torch.Tensor,
    batch_idx: torch.Tensor,
    points: torch.Tensor,
    labels: torch.Tensor,
    progress: Optional[ProgressFn] = None,
    stage: str = 'decode',
    **kwargs,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`decode_in_chunks` image by image, each image's prompts cut to their own padded
    width (the last column any of them uses): SAM attends to padding tokens, so prompts padded
    to another image's width would make an image's answer depend on the batch it came in."""
    logits, iou = None, None
    for b in torch.unique(batch_idx).tolist():
        sel = (batch_idx == b).nonzero(as_tuple=True)[0]
        used = (labels[sel] != -1).any(dim=0).nonzero(as_tuple=True)[0]
        width = int(used.max()) + 1 if used.numel() else 1
        out_logits, out_iou = decode_in_chunks(
            sam,
            embeddings,
            batch_idx[sel],
            points[sel, :width],
            labels[sel, :width],
            progress=progress,
            stage=stage,
            **kwargs,
        )
        if logits is None:
            logits = out_logits.new_empty((len(batch_idx), *out_logits.shape[1:]))
            iou = out_iou.new_empty((len(batch_idx), *out_iou.shape[1:]))
        logits[sel], iou[sel] = out_logits, out_iou
    return logits, iou
