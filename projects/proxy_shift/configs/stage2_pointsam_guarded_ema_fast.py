# Proxy shift, stage 2 "PointSAM +guards -gate +EMA 0.05": stage2_pointsam_guarded_ema.py with a
# faster average (momentum 0.05: a time constant of 20 of the 150 iterations).
_base_ = ['./stage2_pointsam_guarded_ema.py']
model = dict(self_training=dict(teacher=dict(momentum=0.05)))
