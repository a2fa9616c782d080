# Ablation: "ReSAM +guards" without the refine floor (the fixed threshold alone).
_base_ = ['./stage2_resam_guarded.py']
model = dict(self_training=dict(refiner=dict(min_area_ratio=None)))
