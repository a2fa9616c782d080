# Proxy shift, stage 2 "PointSAM +guards": NPC that never erases a mask, negatives only from
# clicks apart at the decoder's resolution, and the quality gate.
_base_ = ['./stage2_pointsam.py', './_guards.py']
model = dict(self_training=dict(npc={{_base_.npc_guard}}, gate={{_base_.gate}}))
