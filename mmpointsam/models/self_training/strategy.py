"""Point-supervised self-training of SAM: one configurable strategy for plain self-training,
PointSAM (NPC + PBR) and ReSAM (refine, requery, reinforce)."""

from typing import Dict, Optional

import torch
import torch.nn as nn

from mmpointsam.registry import MODELS

from ..losses import binary_mask_iou
from ..utils import input_to_original_points, low_res_to_original, pad_offset_of
from .prototypes import sample_point_features


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
    """

    def __init__(
        self,
        teacher: dict = dict(type='CurrentWeightsTeacher'),
        npc: Optional[dict] = None,
        refiner: Optional[dict] = None,
        prototype_loss: Optional[dict] = None,
        alignment_loss: Optional[dict] = None,
    ) -> None:
        super().__init__()
        self.teacher = MODELS.build(teacher)
        self.npc = MODELS.build(npc) if npc else None
        self.refiner = MODELS.build(refiner) if refiner else None
        self.prototype_loss = MODELS.build(prototype_loss) if prototype_loss else None
        self.alignment_loss = MODELS.build(alignment_loss) if alignment_loss else None
        # set by SAMVisualizationHook before an iteration it wants to draw
        self.visualize_next = False
        self.last_visualization: Optional[dict] = None

    def setup(self, sam: nn.Module) -> None:
        """Called once by the segmentor after SAM is built."""
        self.teacher.setup(sam)

    @torch.no_grad()
    def pseudo_labels(self, sam, images: torch.Tensor, prompts):
        """Teacher pass on the weak view: pseudo-mask logits (N, L, L), the weak-view
        embeddings, boxes for alignment (N, 4) and which instances have one."""
        self.teacher.update(sam)
        with self.teacher.model(sam) as teacher:
            embeddings = teacher.encode(images)
            logits, iou = teacher.decode(
                embeddings, prompts.batch_idx, prompts.points, prompts.labels
            )
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
        return logits, embeddings, boxes, valid

    def loss(self, model, inputs, data_samples, prompts) -> Dict[str, torch.Tensor]:
        sam = model.sam
        if isinstance(inputs, dict):
            weak, strong = inputs['weak'], inputs.get('strong', inputs['weak'])
        else:
            weak = strong = inputs
        pseudo_logits, weak_emb, boxes, valid = self.pseudo_labels(sam, weak, prompts)
        targets = (pseudo_logits > sam.mask_threshold).float()

        student_emb = sam.encode(strong)
        losses, logits = model.decode_losses(student_emb, prompts, targets)
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
                binary_mask_iou(logits, targets).mean() if len(targets) else logits.new_zeros(())
            )
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
