"""Point-supervised self-training of SAM: one configurable strategy for plain self-training,
PointSAM (NPC + PBR) and ReSAM (refine, requery, reinforce)."""

from typing import Dict, NamedTuple, Optional

import torch
import torch.nn as nn

from mmpointsam.registry import MODELS

from ..losses import binary_mask_iou
from ..utils import input_to_original_points, low_res_to_original, pad_offset_of
from .guards import PseudoMaskStatistics
from .prototypes import sample_point_features


class PseudoLabels(NamedTuple):
    """The teacher's output on the weak view."""

    logits: torch.Tensor  # (N, L, L) pseudo-mask logits (after NPC / refine)
    embeddings: torch.Tensor  # weak-view embeddings
    boxes: Optional[torch.Tensor] = None  # (N, 4) ReSAM's boxes for alignment
    valid: Optional[torch.Tensor] = None  # (N,) which instances have a box
    plain: Optional[torch.Tensor] = None  # (N, L, L) the first answer to the plain prompts


def _subset(prompts, keep: torch.Tensor):
    """The prompts of the kept instances (same type as ``prompts``)."""
    batch_idx = prompts.batch_idx[keep]
    counts = torch.bincount(batch_idx, minlength=len(prompts.counts)).tolist()
    return type(prompts)(prompts.points[keep], prompts.labels[keep], batch_idx, counts)


@MODELS.register_module()
class PointPromptSelfTraining(nn.Module):
    """Teacher on the weak view makes pseudo masks, the student learns them on the strong view.

    Per iteration: one no-grad encoder pass on the weak view serves the teacher's masks, NPC and
    ReSAM's requery; one encoder pass with autograd on the strong view is the student. Masks and
    losses stay on the decoder's low-res grid. Switches in config give the papers' ablations.

    Args:
        teacher: ``CurrentWeightsTeacher`` (published) or ``EMATeacher``.
        npc: ``NegativePromptCalibration`` config or None.
        refiner: ReSAM's ``ConfidenceRefiner`` config (refine + requery) or None.
        prototype_loss: PBR's ``PrototypeRegularizer`` config or None.
        alignment_loss: ReSAM's ``EmbeddingAlignmentLoss`` config or None.
        gate: a ``PseudoLabelGate`` config (None: every pseudo mask trains, as in the papers):
            instances whose pseudo mask is empty, degenerate or unstable do not train the
            student this iteration; ``gate_dropped`` logs their share.
        stats_ref_iters: iterations whose mean pseudo-mask area is the reference of the logged
            ``pseudo_area_ratio`` (see ``PseudoMaskStatistics``).

    Besides the losses, every iteration logs ``pseudo_empty_share``, ``pseudo_area_ratio`` and
    ``pseudo_view_iou`` (the student's strong-view masks against the teacher's plain weak-view
    answers), which ``PseudoLabelMonitorHook`` watches for a drift toward collapse.
    """

    def __init__(
        self,
        teacher: dict = dict(type='CurrentWeightsTeacher'),
        npc: Optional[dict] = None,
        refiner: Optional[dict] = None,
        prototype_loss: Optional[dict] = None,
        alignment_loss: Optional[dict] = None,
        gate: Optional[dict] = None,
        stats_ref_iters: int = 10,
    ) -> None:
        super().__init__()
        self.teacher = MODELS.build(teacher)
        self.npc = MODELS.build(npc) if npc else None
        self.refiner = MODELS.build(refiner) if refiner else None
        self.prototype_loss = MODELS.build(prototype_loss) if prototype_loss else None
        self.alignment_loss = MODELS.build(alignment_loss) if alignment_loss else None
        self.gate = MODELS.build(gate) if gate else None
        self.stats = PseudoMaskStatistics(stats_ref_iters)
        # set by SAMVisualizationHook before an iteration it wants to draw
        self.visualize_next = False
        self.last_visualization: Optional[dict] = None

    def setup(self, sam: nn.Module) -> None:
        """Called once by the segmentor after SAM is built."""
        self.teacher.setup(sam)

    @torch.no_grad()
    def pseudo_labels(self, sam, images: torch.Tensor, prompts) -> PseudoLabels:
        """Teacher pass on the weak view: pseudo-mask logits (N, L, L), the weak-view
        embeddings, boxes for alignment (N, 4), which instances have one, and the plain
        answer before NPC / refine."""
        self.teacher.update(sam)
        with self.teacher.model(sam) as teacher:
            embeddings = teacher.encode(images)
            logits, iou = teacher.decode(
                embeddings, prompts.batch_idx, prompts.points, prompts.labels
            )
            plain = logits
            if self.npc is not None:
                logits, iou, _ = self.npc(
                    teacher,
                    embeddings,
                    prompts.batch_idx,
                    prompts.points,
                    prompts.labels,
                    logits,
                    iou,
                )
            boxes = valid = None
            if self.refiner is not None:
                logits, boxes, _ = self.refiner(
                    teacher, embeddings, prompts.batch_idx, prompts.points, prompts.labels, logits
                )
                valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return PseudoLabels(logits, embeddings, boxes, valid, plain)

    @torch.no_grad()
    def view_agreement(self, sam, strong: torch.Tensor, prompts, plain: torch.Tensor):
        """IoU (N,) of the teacher's plain answers on the weak view (``plain``) and on the
        strong view (one more no-grad encoder pass)."""
        with self.teacher.model(sam) as teacher:
            logits, _ = teacher.decode(
                teacher.encode(strong), prompts.batch_idx, prompts.points, prompts.labels
            )
        return binary_mask_iou(logits, (plain > sam.mask_threshold).float(), sam.mask_threshold)

    def gate_instances(self, sam, strong, prompts, pseudo: PseudoLabels):
        """(keep (N,) bool, logged values) of the quality gate; all kept without a gate."""
        keep = torch.ones(len(pseudo.logits), dtype=torch.bool, device=pseudo.logits.device)
        if self.gate is None or len(keep) == 0:
            return keep, {}
        view_iou = None
        if self.gate.needs_view:
            view_iou = self.view_agreement(sam, strong, prompts, pseudo.plain)
        cell = sam.img_size / pseudo.logits.shape[-1]
        verdict = self.gate(
            pseudo.logits - sam.mask_threshold, prompts.points, prompts.labels, cell, view_iou
        )
        logged = {f'gate_{k}': v.float().mean() for k, v in verdict.items() if k != 'keep'}
        logged['gate_dropped'] = (~verdict['keep']).float().mean()
        return verdict['keep'], logged

    def loss(self, model, inputs, data_samples, prompts) -> Dict[str, torch.Tensor]:
        sam = model.sam
        if isinstance(inputs, dict):
            weak, strong = inputs['weak'], inputs.get('strong', inputs['weak'])
        else:
            weak = strong = inputs
        pseudo = PseudoLabels(*self.pseudo_labels(sam, weak, prompts))
        pseudo_logits, weak_emb, boxes, valid = pseudo[:4]
        targets = (pseudo_logits > sam.mask_threshold).float()
        keep, logged = self.gate_instances(sam, strong, prompts, pseudo)

        student_emb = sam.encode(strong)
        if keep.all():
            losses, logits = model.decode_losses(student_emb, prompts, targets)
        elif keep.any():  # the dropped instances do not train the student this iteration
            losses, kept_logits = model.decode_losses(
                student_emb, _subset(prompts, keep), targets[keep]
            )
            logits = kept_logits.new_full(targets.shape, -20.0)
            logits[keep] = kept_logits
        else:  # nothing to learn from: zero losses that keep every parameter in the graph
            losses, logits = model.decode_losses(student_emb, prompts, targets)
            losses = {k: v * 0.0 for k, v in losses.items()}
        if valid is not None:
            valid = valid & keep
        # the embeddings are fp32 (SAM.encode); the losses stay fp32 also in bf16 training
        with torch.autocast(student_emb.device.type, enabled=False):
            if self.prototype_loss is not None:
                positive = prompts.labels == 1
                feats = sample_point_features(
                    sam.image_embedding(student_emb),
                    prompts.points[positive],
                    prompts.batch_idx[:, None].expand_as(prompts.labels)[positive],
                    sam.img_size,
                )
                losses['loss_pbr'] = self.prototype_loss(feats)
            if self.alignment_loss is not None:
                if boxes is None:
                    raise ValueError('alignment_loss needs boxes from a refiner (ReSAM)')
                losses['loss_align'] = self.alignment_loss(
                    sam.image_embedding(student_emb),
                    sam.image_embedding(weak_emb),
                    boxes,
                    prompts.batch_idx,
                    sam.img_size,
                    valid,
                )
        with torch.no_grad():
            losses['pseudo_iou'] = (
                binary_mask_iou(logits[keep], targets[keep]).mean()
                if keep.any()
                else logits.new_zeros(())
            )
            losses.update(logged)
            losses.update(self.stats(targets > 0.5))
            if keep.any() and pseudo.plain is not None:
                plain = (pseudo.plain[keep] > sam.mask_threshold).float()
                losses['pseudo_view_iou'] = binary_mask_iou(logits[keep], plain).mean()
            if len(targets) and all('masks' in s.gt_instances for s in data_samples):
                # a diagnostic where ground truth is at hand (the papers' resample-from-masks
                # protocol): how good the pseudo masks are; never a loss
                truth = model.low_res_targets(data_samples, targets.device)
                # objects too small to cover a low-res cell cannot be judged on this grid (an
                # empty pseudo mask would score 1 against them): they are left out
                seen = (truth > 0.5).flatten(1).any(1)
                if seen.any():
                    losses['pseudo_gt_iou'] = binary_mask_iou(
                        pseudo_logits[seen], truth[seen]
                    ).mean()
        if self.visualize_next:
            self._record_visualization(sam, data_samples, prompts, pseudo_logits, logits)
        return losses

    @torch.no_grad()
    def _record_visualization(self, sam, data_samples, prompts, pseudo_logits, logits) -> None:
        """Pseudo and student masks of the batch's first image, at its original size."""
        self.visualize_next = False
        sample = data_samples[0]
        n = prompts.counts[0]
        offset = pad_offset_of(sample)

        def to_full(logits):
            return (
                low_res_to_original(
                    logits[:n].float(), sample.img_shape, sample.ori_shape, sam.img_size, offset
                )
                > 0
            )

        self.last_visualization = dict(
            img_path=sample.metainfo.get('img_path'),
            ori_shape=tuple(sample.ori_shape),
            flip=sample.metainfo.get('flip', False),
            flip_direction=sample.metainfo.get('flip_direction'),
            points=input_to_original_points(prompts.points[:n], sample.scale_factor, offset).cpu(),
            point_labels=prompts.labels[:n].cpu(),
            labels=torch.as_tensor(sample.gt_instances.labels).cpu(),
            pseudo_masks=to_full(pseudo_logits).cpu(),
            student_masks=to_full(logits).cpu(),
        )
        if 'masks' in sample.gt_instances:  # ground truth at hand: drawn as a third panel
            from ..segmentors.pointsam import gt_masks_tensor

            self.last_visualization['gt_masks'] = gt_masks_tensor(sample, 'cpu')
