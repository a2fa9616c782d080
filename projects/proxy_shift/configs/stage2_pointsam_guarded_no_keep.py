# Ablation: "PointSAM +guards" without NPC's min_kept (a calibrated mask may erase the plain one).
_base_ = ['./stage2_pointsam_guarded.py']
model = dict(self_training=dict(npc=dict(min_kept=None)))
