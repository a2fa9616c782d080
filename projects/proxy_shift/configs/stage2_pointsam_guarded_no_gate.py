# Ablation: "PointSAM +guards" without the quality gate.
_base_ = ['./stage2_pointsam_guarded.py']
model = dict(self_training=dict(gate=None))
