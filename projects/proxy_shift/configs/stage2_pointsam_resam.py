# Proxy shift, stage 2 "PointSAM + ReSAM": NPC, PBR, refine/requery and alignment together.
_base_ = ['./stage2_pointsam.py', './_resam.py']
model = dict(
    self_training=dict(refiner={{_base_.resam_refiner}}, alignment_loss={{_base_.resam_alignment}})
)
