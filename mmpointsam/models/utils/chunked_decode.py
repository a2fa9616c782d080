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
