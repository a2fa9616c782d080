# Ablation: "PointSAM +guards" without NPC's min_negative_distance (negatives from any overlap).
_base_ = ['./stage2_pointsam_guarded.py']
model = dict(self_training=dict(npc=dict(min_negative_distance=0.0)))
