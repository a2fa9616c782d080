"""Losses over many prompts whose mask-decoder backward runs chunk by chunk, inside the forward.

A self-training iteration on an image with 50 objects decodes 50 prompts with autograd on. Kept
for one backward at the end, the decoder's activations (about 30 MB per prompt at 1024 px) grow
with the object count until they outweigh the image encoder's. Here each chunk's losses are
back-propagated to the image embedding (and to any trainable prompt-encoder/decoder weight) as
soon as they are computed, and the summed gradient is handed to autograd when the real backward
reaches this node ("gradient caching"). Only one chunk's activations are alive at a time; the
arithmetic is the same as one big backward.
"""

from typing import Callable, Dict, List, Sequence

import torch
from torch import Tensor

ChunkLosses = Callable[[Tensor, int], Dict[str, Tensor]]


class _ChunkedLosses(torch.autograd.Function):
    """Losses computed chunk by chunk, each chunk's graph freed once its gradients are taken."""

    @staticmethod
    def forward(
        ctx,
        chunk_losses: ChunkLosses,
        num_chunks: int,
        keys: List[str],
        embeddings: Tensor,
        *params: Tensor,
    ):
        """Sum each loss over the chunks and keep the gradients of the summed losses."""
        leaf = embeddings.detach().requires_grad_()
        inputs = (leaf,) + params
        grads = [None] * len(inputs)  # stays None for an input no loss depends on
        totals = None
        for c in range(num_chunks):
            with torch.enable_grad():
                losses = chunk_losses(leaf, c)
                chunk_grads = torch.autograd.grad(sum(losses.values()), inputs, allow_unused=True)
            grads = [
                g if acc is None else acc if g is None else acc + g
                for acc, g in zip(grads, chunk_grads)
            ]
            values = torch.stack([v.detach() for v in losses.values()])
            totals = values if totals is None else totals + values
            if not keys:
                keys.extend(losses)
        ctx.save_for_backward(*grads)
        return tuple(t.clone() for t in totals.unbind())

    @staticmethod
    def backward(ctx, *grad_outputs: Tensor):
        """Hand autograd the kept gradients, scaled by the common weight of the losses."""
        # the gradient was taken of the losses' plain sum, which is how MMEngine's parse_losses
        # combines them (times one common factor: loss scale, accumulation)
        scale = grad_outputs[0]
        if any(not torch.equal(g, scale) for g in grad_outputs[1:]):
            raise RuntimeError(
                'losses from chunked_losses must enter the total loss with equal '
                "weights; set the model's train_cfg.loss_chunk_size=None to "
                'weigh them differently'
            )
        grads = ctx.saved_tensors
        return (None, None, None) + tuple(None if g is None else scale * g for g in grads)


def chunked_losses(
    chunk_losses: ChunkLosses, num_chunks: int, embeddings: Tensor, params: Sequence[Tensor] = ()
) -> Dict[str, Tensor]:
    """Sum over chunks of ``chunk_losses(embeddings, c)``, back-propagated chunk by chunk.

    Args:
        chunk_losses: returns the losses of chunk ``c`` computed from the embeddings it is given
            (already weighted so that the chunks' sum is the wanted loss).
        num_chunks: how many chunks.
        embeddings: the tensor the losses are differentiated through (the image embeddings).
        params: other tensors the losses depend on that need gradients (trainable decoder
            weights).

    Returns:
        The summed losses, differentiable w.r.t. ``embeddings`` and ``params``.
    """
    params = tuple(p for p in params if p.requires_grad)
    if not torch.is_grad_enabled() or not (embeddings.requires_grad or params):
        chunks = [chunk_losses(embeddings, c) for c in range(num_chunks)]
        return {k: sum(chunk[k] for chunk in chunks) for k in chunks[0]}
    keys: List[str] = []
    values = _ChunkedLosses.apply(chunk_losses, num_chunks, keys, embeddings, *params)
    return dict(zip(keys, values))
