"""Prototype-based Regularization (PointSAM, PBR).

Target prototypes are cluster means of frozen-SAM features at prompt points (computed offline by
``tools/compute_prototypes.py``). Online, student features at prompt points fill a FIFO bank that
FINCH clusters into predicted prototypes every few iterations; Hungarian matching on 1 - cosine
pairs them with the targets, and the mean matched cost is the loss. Unlike the public code, the
predicted prototypes include this iteration's features with their gradient, so the loss trains
the LoRA weights.
"""

import pickle
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from mmpointsam.registry import MODELS


def finch_prototypes(features: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Cluster ``features`` (n, d) with FINCH (cosine) and keep its coarsest partition that has
    more than one cluster.

    Returns:
        Cluster means (k, d) and each feature's cluster label (n,).
    """
    from finch import FINCH

    features = np.asarray(features, dtype=np.float32)
    if len(features) < 3:
        raise ValueError(f'FINCH needs at least 3 features, got {len(features)}')
    partitions, num_clust, _ = FINCH(features, distance='cosine', verbose=False)
    num_clust = list(num_clust)
    level = max((i for i, n in enumerate(num_clust) if n > 1), default=0)
    labels = partitions[:, level]
    means = np.stack([features[labels == c].mean(0) for c in range(num_clust[level])])
    return means, labels


def sample_point_features(
    embeddings: torch.Tensor, points: torch.Tensor, batch_idx: torch.Tensor, input_size: int
) -> torch.Tensor:
    """Bilinear samples (K, C) of image embeddings (B, C, h, w) at points (K, 2) of the input
    frame; point ``k`` is read from image ``batch_idx[k]``."""
    num = points.shape[0]
    if num == 0:
        return embeddings.new_zeros((0, embeddings.shape[1]))
    # the embedding grid spans the whole padded frame: normalised coords of grid_sample
    grid = (points + 0.5) * (2.0 / input_size) - 1.0
    out = embeddings.new_empty((num, embeddings.shape[1]))
    for b in torch.unique(batch_idx).tolist():
        sel = (batch_idx == b).nonzero(as_tuple=True)[0]
        sampled = F.grid_sample(
            embeddings[b : b + 1],
            grid[sel].view(1, 1, -1, 2).to(embeddings.dtype),
            mode='bilinear',
            align_corners=False,
        )
        out = out.index_copy(0, sel, sampled[0, :, 0].T)
    return out


def prototype_matching_loss(
    predicted: torch.Tensor, targets: torch.Tensor
) -> Tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Hungarian matching of predicted (k, d) to target (m, d) prototypes on cost 1 - cosine.

    Returns:
        The mean cost of the matched pairs (differentiable w.r.t. ``predicted``) and the matched
        row (predicted) and column (target) indices.
    """
    cost = 1.0 - F.normalize(predicted, dim=1) @ F.normalize(targets, dim=1).T
    rows, cols = linear_sum_assignment(cost.detach().cpu().numpy())
    loss = cost[
        torch.as_tensor(rows, device=cost.device), torch.as_tensor(cols, device=cost.device)
    ]
    return loss.mean(), rows, cols


class PrototypeMemoryBank(nn.Module):
    """A bounded FIFO of feature vectors with their cluster labels, saved in checkpoints.

    Buffers have fixed shapes so that ``--resume`` restores the bank exactly.
    """

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        self.size = size
        self.register_buffer('features', torch.zeros(size, dim))
        self.register_buffer('labels', torch.full((size,), -1, dtype=torch.long))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('count', torch.zeros((), dtype=torch.long))

    @property
    def full(self) -> bool:
        return int(self.count) >= self.size

    def __len__(self) -> int:
        return min(int(self.count), self.size)

    @torch.no_grad()
    def push(self, features: torch.Tensor, labels: Optional[torch.Tensor] = None) -> None:
        """Append features (k, dim); the oldest entries are overwritten once full."""
        features = features.detach()[-self.size :]
        if labels is None:
            labels = torch.full((len(features),), -1, dtype=torch.long, device=features.device)
        labels = labels[-self.size :]
        k = len(features)
        idx = (int(self.ptr) + torch.arange(k, device=self.features.device)) % self.size
        self.features[idx] = features.to(self.features.dtype)
        self.labels[idx] = labels.to(self.labels.device)
        self.ptr.fill_((int(self.ptr) + k) % self.size)
        self.count.add_(k)

    def valid(self) -> Tuple[torch.Tensor, torch.Tensor]:
        n = len(self)
        return self.features[:n], self.labels[:n]


@MODELS.register_module()
class PrototypeRegularizer(nn.Module):
    """PBR loss: pull online prototypes of student features towards target prototypes.

    Args:
        target_prototypes: path of the file written by ``tools/compute_prototypes.py``.
        bank_size: FIFO size (128 for NWPU, 512 for WHU/HRSID in the paper).
        cluster_interval: FINCH re-clusters the bank every this many iterations once full.
        loss_weight: 0.1 in the paper.
        dim: feature size (SAM's neck: 256).
    """

    def __init__(
        self,
        target_prototypes: Optional[str] = None,
        bank_size: int = 128,
        cluster_interval: int = 30,
        loss_weight: float = 0.1,
        dim: int = 256,
    ) -> None:
        super().__init__()
        self.target_file = target_prototypes
        self.cluster_interval = cluster_interval
        self.loss_weight = loss_weight
        self.bank = PrototypeMemoryBank(bank_size, dim)
        # predicted prototypes (first num_pred rows) and the target matched to each (-1: none)
        self.register_buffer('pred_prototypes', torch.zeros(bank_size, dim))
        self.register_buffer('num_pred', torch.zeros((), dtype=torch.long))
        self.register_buffer('matched_target', torch.full((bank_size,), -1, dtype=torch.long))
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))
        self.register_buffer('targets', torch.zeros(0, dim))
        if target_prototypes is not None:
            self.set_targets(self.load_targets(target_prototypes))

    @staticmethod
    def load_targets(path: str) -> torch.Tensor:
        try:
            data = torch.load(path, map_location='cpu', weights_only=True)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'target prototypes {path} not found: make them with tools/compute_prototypes.py '
                '(frozen-SAM features of the training set)'
            ) from None
        except pickle.UnpicklingError as e:
            # tensors and plain Python values only; older compute_prototypes runs stored a
            # custom arch as a ConfigDict
            raise ValueError(
                f'{path} holds objects other than tensors and plain values, which are not loaded '
                f'(weights_only): make it again with tools/compute_prototypes.py ({e})'
            ) from None
        protos = data['prototypes'] if isinstance(data, dict) else data
        if protos.dim() != 2 or len(protos) < 1:
            raise ValueError(
                f'{path}: expected prototypes of shape (k, d), got {tuple(protos.shape)}'
            )
        return protos.float()

    def set_targets(self, prototypes: torch.Tensor) -> None:
        if prototypes.shape[1] != self.bank.features.shape[1]:
            raise ValueError(
                f'target prototypes have {prototypes.shape[1]} dims, the features '
                f'{self.bank.features.shape[1]}'
            )
        self.targets = prototypes.to(self.bank.features.device)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the target count is data-dependent: take the checkpoint's shape
        key = prefix + 'targets'
        if key in state_dict:
            self.targets = state_dict[key].clone().to(self.targets.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def _recluster(self) -> None:
        feats, _ = self.bank.valid()
        means, labels = finch_prototypes(feats.float().cpu().numpy())
        means = torch.as_tensor(means, device=feats.device)
        _, rows, cols = prototype_matching_loss(means, self.targets)
        k = len(means)
        self.pred_prototypes.zero_()
        self.pred_prototypes[:k] = means
        self.num_pred.fill_(k)
        self.matched_target.fill_(-1)
        self.matched_target[torch.as_tensor(rows)] = torch.as_tensor(cols, device=feats.device)
        self.bank.labels[: len(labels)] = torch.as_tensor(labels, device=feats.device)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Loss for this iteration's student features (k, d) at prompt points; updates the bank.

        Before the bank first fills (and is clustered) the loss is zero.
        """
        if len(self.targets) == 0:
            raise RuntimeError(
                'PrototypeRegularizer has no target prototypes: set '
                'target_prototypes to the file of tools/compute_prototypes.py'
            )
        self.steps.add_(1)
        if self.bank.full and (
            int(self.num_pred) == 0 or int(self.steps) % self.cluster_interval == 0
        ):
            self._recluster()
        loss = features.sum() * 0.0
        assign = torch.full((len(features),), -1, dtype=torch.long, device=features.device)
        k = int(self.num_pred)
        if k > 0 and len(features) > 0:
            protos = self.pred_prototypes[:k]
            assign = (F.normalize(features.detach(), dim=1) @ F.normalize(protos, dim=1).T).argmax(
                1
            )
            loss = self.loss_weight * self._matched_cost(features, assign, k)
        self.bank.push(features, assign)
        return loss

    def _matched_cost(self, features: torch.Tensor, assign: torch.Tensor, k: int) -> torch.Tensor:
        """Mean 1 - cos between matched (predicted, target) prototype pairs, where a predicted
        prototype is the mean of its bank members (fixed) and this iteration's features (live)."""
        bank_feats, bank_labels = self.bank.valid()
        dim = features.shape[1]
        sums = features.new_zeros((k, dim)).index_add(0, assign, features)
        counts = torch.bincount(assign, minlength=k).to(features.dtype)
        member = bank_labels >= 0
        sums = sums + features.new_zeros((k, dim)).index_add(
            0, bank_labels[member], bank_feats[member].to(features.dtype)
        )
        counts = counts + torch.bincount(bank_labels[member], minlength=k).to(features.dtype)
        matched = (self.matched_target[:k] >= 0).nonzero(as_tuple=True)[0]
        matched = matched[counts[matched] > 0]
        if matched.numel() == 0:
            return features.sum() * 0.0
        protos = sums[matched] / counts[matched, None]
        targets = self.targets[self.matched_target[matched]].to(features.dtype)
        return (1.0 - F.cosine_similarity(protos, targets, dim=1)).mean()
