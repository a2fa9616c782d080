# Proxy shift, stage 2 "Self-training +guards": the pseudo-label quality gate.
_base_ = ['./stage2_selftrain.py', './_guards.py']
model = dict(self_training=dict(gate={{_base_.gate}}))
