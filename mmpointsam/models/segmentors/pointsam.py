"""Point-prompted SAM segmentor: one mask per prompted instance, trained through MMEngine's Runner.

``predict`` is "Direct SAM" evaluation; ``loss`` learns from ground-truth masks (the papers'
"Supervised" upper bound) or, when a ``self_training`` strategy is configured, from the pseudo
masks that strategy makes from point labels alone.
"""

from itertools import chain
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmdet.structures import DetDataSample
from mmengine.model import BaseModel
from mmengine.structures import InstanceData

from mmpointsam.registry import MODELS

from ..losses import binary_mask_iou
from ..utils import (
    chunked_losses,
    decode_in_chunks,
    low_res_to_original,
    original_to_input_points,
    original_to_low_res,
    pad_offset_of,
)
from ..utils.chunked_decode import ProgressFn

ForwardResults = Union[Dict[str, torch.Tensor], List[DetDataSample]]


class Prompts(NamedTuple):
    """The point prompts of a batch, flattened over images, in the padded input frame."""

    points: torch.Tensor  # (N, P, 2) xy
    labels: torch.Tensor  # (N, P): 1 positive, 0 negative, -1 padding
    batch_idx: torch.Tensor  # (N,) image of each prompt
    counts: List[int]  # prompts per image

    def split(self, tensor: torch.Tensor) -> Sequence[torch.Tensor]:
        """Split a per-prompt tensor (N, ...) into per-image chunks."""
        return tensor.split(self.counts, dim=0)


def _as_tensor(value, device, dtype=None) -> torch.Tensor:
    """A value as a tensor on ``device`` (and of ``dtype`` when given)."""
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value)
    return value.to(device=device, dtype=dtype)


def gt_masks_tensor(sample: DetDataSample, device) -> torch.Tensor:
    """Ground-truth masks of a sample as a bool tensor (N, H, W) at original size."""
    masks = sample.gt_instances.masks
    if hasattr(masks, 'to_tensor'):
        return masks.to_tensor(dtype=torch.bool, device=device)
    return _as_tensor(masks, device, torch.bool)


@MODELS.register_module()
class PointSAM(BaseModel):
    """SAM segmentor with point prompts taken from ``gt_instances.points``/``point_labels``.

    Args:
        sam: config of :class:`~mmpointsam.models.sam.SAM`.
        data_preprocessor: config of the data preprocessor (``SAMDataPreprocessor``).
        loss_focal, loss_dice, loss_iou: mask losses (the papers' focal x20 + dice + IoU MSE).
            Losses that are not means over masks (the public PointSAM code's, configs/_base_/
            protocols/paper.py) need batch size 1 and no ``loss_chunk_size``.
        self_training: config of a self-training strategy that turns point prompts into pseudo
            masks (PointSAM, ReSAM); None trains on ground-truth masks.
        supervision: how ground-truth masks train SAM: None decodes the given point prompts
            once; ``InteractivePromptSimulation`` follows SAM's own training (points or boxes,
            then corrective points with the previous mask), so every prompt path learns.
        train_cfg: ``loss_chunk_size``: prompts whose mask-decoder backward runs together
            (:func:`~mmpointsam.models.utils.chunked_losses`), so that training memory does not
            grow with the number of objects; None decodes every prompt in one graph.
        test_cfg: ``multimask_output`` (keep the best of SAM's three masks by predicted IoU);
            ``npc``: a ``NegativePromptCalibration`` config to calibrate predictions (used when
            making pseudo labels, e.g. point -> rotated box).
    """

    def __init__(
        self,
        sam: dict,
        data_preprocessor: Optional[dict] = None,
        loss_focal: dict = dict(type='MaskFocalLoss', alpha=0.8, gamma=2.0, loss_weight=20.0),
        loss_dice: dict = dict(type='MaskDiceLoss', loss_weight=1.0),
        loss_iou: dict = dict(type='IoUPredictionLoss', loss_weight=1.0),
        self_training: Optional[dict] = None,
        supervision: Optional[dict] = None,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SAMDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.sam = MODELS.build(sam)
        pre_size = getattr(self.data_preprocessor, 'img_size', self.sam.img_size)
        if pre_size != self.sam.img_size:
            raise ValueError(
                f'data_preprocessor.img_size={pre_size} differs from '
                f'sam.img_size={self.sam.img_size}'
            )
        self.loss_focal = MODELS.build(loss_focal)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_iou = MODELS.build(loss_iou)
        self.self_training = MODELS.build(self_training) if self_training else None
        if self.self_training is not None:
            self.self_training.setup(self.sam)
        if self_training and supervision:
            raise ValueError(
                'supervision trains on ground-truth masks and self_training on '
                'pseudo masks: configure one of them'
            )
        self.supervision = MODELS.build(supervision) if supervision else None
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or {})
        # losses that are not a mean over masks (the public PointSAM code's sums and pooled dice)
        self.whole_batch_losses = [
            k
            for k in ('loss_focal', 'loss_dice', 'loss_iou')
            if not getattr(getattr(self, k), 'averages_over_masks', True)
        ]
        if self.whole_batch_losses and self.train_cfg.get('loss_chunk_size'):
            raise ValueError(
                f'{self.whole_batch_losses} are not means over masks, so chunks of prompts '
                f'cannot be weighed by their share: train_cfg.loss_chunk_size='
                f'{self.train_cfg["loss_chunk_size"]!r}; choose None, or losses that average '
                'over masks'
            )
        npc = self.test_cfg.get('npc')
        self.test_npc = MODELS.build(npc) if npc else None

    # ------------------------------------------------------------------ helpers
    def collect_prompts(self, data_samples: Sequence[DetDataSample]) -> Prompts:
        """Gather every sample's point prompts into one batch in the input frame."""
        device = self.sam.mask_decoder.iou_token.weight.device
        points, labels, batch_idx, counts = [], [], [], []
        for i, sample in enumerate(data_samples):
            inst = sample.gt_instances
            if 'points' not in inst:
                raise KeyError(
                    f'{sample.metainfo.get("img_path", "sample")} has no point prompts: '
                    'add SamplePointPrompts to the pipeline'
                )
            pts = _as_tensor(inst.points, device, torch.float32)
            points.append(original_to_input_points(pts, sample.scale_factor, pad_offset_of(sample)))
            labels.append(_as_tensor(inst.point_labels, device, torch.long))
            batch_idx.append(torch.full((len(pts),), i, dtype=torch.long, device=device))
            counts.append(len(pts))
        num_points = max((p.shape[1] for p in points if p.numel()), default=1)
        # pad to a common point count with label -1 ("not a point" for SAM's prompt encoder)
        points = (
            torch.cat(
                [
                    torch.cat([p, p.new_zeros((p.shape[0], num_points - p.shape[1], 2))], 1)
                    if p.shape[1] < num_points
                    else p
                    for p in points
                ]
            )
            if points
            else torch.zeros((0, num_points, 2), device=device)
        )
        labels = (
            torch.cat(
                [
                    torch.cat([lb, lb.new_full((lb.shape[0], num_points - lb.shape[1]), -1)], 1)
                    if lb.shape[1] < num_points
                    else lb
                    for lb in labels
                ]
            )
            if labels
            else torch.zeros((0, num_points), dtype=torch.long, device=device)
        )
        return Prompts(
            points.reshape(-1, num_points, 2),
            labels.reshape(-1, num_points),
            torch.cat(batch_idx) if batch_idx else labels.new_zeros((0,)),
            counts,
        )

    def low_res_targets(self, data_samples: Sequence[DetDataSample], device) -> torch.Tensor:
        """Ground-truth masks of the batch on the decoder's low-res grid (N, L, L)."""
        targets = [
            original_to_low_res(
                gt_masks_tensor(s, device),
                s.img_shape,
                self.sam.img_size,
                self.sam.low_res_size,
                pad_offset_of(s),
            )
            for s in data_samples
        ]
        return (
            torch.cat(targets)
            if targets
            else torch.zeros((0, self.sam.low_res_size, self.sam.low_res_size), device=device)
        )

    def mask_losses(
        self, logits: torch.Tensor, iou_pred: torch.Tensor, targets: torch.Tensor
    ) -> Dict[str, torch.Tensor]:
        """The papers' supervised mask losses on low-res logits and soft targets in [0, 1];
        in the logits' dtype (fp32) with autocast off, also in bf16 training."""
        with torch.autocast(logits.device.type, enabled=False):
            return dict(
                loss_focal=self.loss_focal(logits, targets),
                loss_dice=self.loss_dice(logits, targets),
                loss_iou=self.loss_iou(iou_pred, logits, targets),
            )

    def decode_losses(
        self, embeddings: torch.Tensor, prompts: Prompts, targets: torch.Tensor
    ) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
        """Mask losses of every prompt decoded on ``embeddings`` (with autograd) against
        ``targets`` (N, L, L), and the detached logits (N, L, L).

        With ``train_cfg.loss_chunk_size`` the prompts are decoded and back-propagated chunk by
        chunk; the mask losses are means over instances, so chunk c weighs n_c / N (losses that
        are not, ``whole_batch_losses``, refuse a chunk size in ``__init__``).
        """
        num = len(targets)
        size = self.train_cfg.get('loss_chunk_size')
        if not size or num <= size:
            logits, iou_pred = self.sam.decode(
                embeddings, prompts.batch_idx, prompts.points, prompts.labels
            )
            return self.mask_losses(logits, iou_pred, targets), logits.detach()
        starts = range(0, num, size)
        logits_out = [None] * len(starts)

        def chunk_losses(emb: torch.Tensor, c: int) -> Dict[str, torch.Tensor]:
            sel = slice(starts[c], starts[c] + size)
            logits, iou_pred = self.sam.decode(
                emb, prompts.batch_idx[sel], prompts.points[sel], prompts.labels[sel]
            )
            logits_out[c] = logits.detach()
            weight = len(logits) / num
            return {
                k: v * weight for k, v in self.mask_losses(logits, iou_pred, targets[sel]).items()
            }

        params = chain(self.sam.prompt_encoder.parameters(), self.sam.mask_decoder.parameters())
        losses = chunked_losses(chunk_losses, len(starts), embeddings, list(params))
        return losses, torch.cat(logits_out)

    # ------------------------------------------------------------------ modes
    def forward(
        self,
        inputs: Union[torch.Tensor, Dict[str, torch.Tensor]],
        data_samples: Optional[List[DetDataSample]] = None,
        mode: str = 'tensor',
    ) -> ForwardResults:
        """Dispatch to loss, predict or the raw tensors, as MMEngine's modes ask."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, self.collect_prompts(data_samples))
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')

    def _forward(self, inputs, prompts: Prompts):
        """Low-res logits (N, L, L) and predicted IoU (N,) for the prompts (one encoder pass)."""
        images = inputs['weak'] if isinstance(inputs, dict) else inputs
        logits, iou, _ = self.decode_prompts(self.sam.encode(images), prompts)
        return logits, iou

    def decode_prompts(
        self, embeddings: torch.Tensor, prompts: Prompts, progress: Optional[ProgressFn] = None
    ):
        """Decode every prompt of the batch at once, then NPC when ``test_cfg.npc`` is set.

        ``progress(stage, done, total)``: decode in chunks and report (same result), for a
        progress bar within a dense image.

        Returns:
            Low-res logits (N, L, L), predicted IoU (N,) and which instances NPC calibrated.
        """
        logits, iou = decode_in_chunks(
            self.sam,
            embeddings,
            prompts.batch_idx,
            prompts.points,
            prompts.labels,
            progress=progress,
            multimask_output=self.test_cfg.get('multimask_output', False),
        )
        calibrated = torch.zeros(len(logits), dtype=torch.bool, device=logits.device)
        if self.test_npc is not None:
            logits, iou, calibrated = self.test_npc(
                self.sam,
                embeddings,
                prompts.batch_idx,
                prompts.points,
                prompts.labels,
                logits,
                iou,
                progress=progress,
            )
        return logits, iou, calibrated

    def loss(self, inputs, data_samples: List[DetDataSample]) -> Dict[str, torch.Tensor]:
        """Mask losses from the ground truth, or the self-training strategy's losses."""
        if self.whole_batch_losses and len(data_samples) > 1:
            # they reproduce the public code's batch of one image (public code:
            # configs/config_*.py L9 "only support 1"); it weighs a larger batch's images otherwise
            raise ValueError(
                f'{self.whole_batch_losses} sum or pool over all masks of the '
                f'batch: batch_size={len(data_samples)}; choose batch_size=1, or '
                'losses that average over masks'
            )
        prompts = self.collect_prompts(data_samples)
        if self.self_training is not None:
            return self.self_training.loss(self, inputs, data_samples, prompts)
        images = inputs['weak'] if isinstance(inputs, dict) else inputs
        embeddings = self.sam.encode(images)
        targets = self.low_res_targets(data_samples, embeddings.device)
        if self.supervision is not None:
            return self.supervision.loss(self, embeddings, prompts, targets)
        losses, logits = self.decode_losses(embeddings, prompts, targets)
        with torch.no_grad():
            losses['train_iou'] = (
                binary_mask_iou(logits, targets).mean() if len(targets) else logits.new_zeros(())
            )
        return losses

    def predict(self, inputs, data_samples: List[DetDataSample]) -> List[DetDataSample]:
        """One mask per prompted instance, at the original image size."""
        prompts = self.collect_prompts(data_samples)
        logits, iou_pred = self._forward(inputs, prompts)
        return self.add_pred_to_samples(data_samples, prompts, logits, iou_pred)

    def add_pred_to_samples(
        self, data_samples, prompts: Prompts, logits: torch.Tensor, scores: torch.Tensor
    ) -> List[DetDataSample]:
        """Attach ``pred_instances`` (bool masks at original size, scores, labels, prompts)."""
        for sample, logit, score in zip(data_samples, prompts.split(logits), prompts.split(scores)):
            full = low_res_to_original(
                logit, sample.img_shape, sample.ori_shape, self.sam.img_size, pad_offset_of(sample)
            )
            pred = InstanceData()
            pred.masks = full > self.sam.mask_threshold
            pred.scores = score.float()
            gt = sample.gt_instances
            pred.labels = (
                _as_tensor(gt.labels, score.device, torch.long)
                if 'labels' in gt
                else score.new_zeros(len(score), dtype=torch.long)
            )
            pred.points = _as_tensor(gt.points, score.device, torch.float32)
            pred.point_labels = _as_tensor(gt.point_labels, score.device, torch.long)
            sample.pred_instances = pred
        return list(data_samples)
