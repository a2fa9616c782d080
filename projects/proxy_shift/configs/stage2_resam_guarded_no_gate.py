# Ablation: "ReSAM +guards" without the quality gate.
_base_ = ['./stage2_resam_guarded.py']
model = dict(self_training=dict(gate=None))
