# Proxy shift, stage 2 "ReSAM +guards": the refine floor and the quality gate.
_base_ = ['./stage2_resam.py', './_guards.py']
model = dict(self_training=dict(refiner={{_base_.refine_floor}}, gate={{_base_.gate}}))
