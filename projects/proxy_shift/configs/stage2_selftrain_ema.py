# Proxy shift, stage 2 "Self-training +EMA": plain self-training whose pseudo masks come from an
# exponential moving average of the student (momentum 0.02, as stage2_resam_ema.py).
_base_ = ['./stage2_selftrain.py']
model = dict(self_training=dict(teacher=dict(_delete_=True, type='EMATeacher', momentum=0.02)))
