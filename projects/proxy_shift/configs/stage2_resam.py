# Proxy shift, stage 2 "ReSAM": refine (confidence), requery (boxes), reinforce (alignment).
_base_ = ['./stage2_selftrain.py', './_resam.py']
model = dict(
    self_training=dict(refiner={{_base_.resam_refiner}}, alignment_loss={{_base_.resam_alignment}})
)
