# Proxy shift, stage 2 "PointSAM +guards -gate +EMA": the package's PointSAM default (guarded NPC,
# no gate) whose pseudo masks come from an exponential moving average of the student (momentum
# 0.02, as stage2_resam_ema.py).
_base_ = ['./stage2_pointsam_guarded_no_gate.py']
model = dict(self_training=dict(teacher=dict(_delete_=True, type='EMATeacher', momentum=0.02)))
