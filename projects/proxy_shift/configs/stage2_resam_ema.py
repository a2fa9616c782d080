# Proxy shift, stage 2 "ReSAM +EMA": ReSAM whose pseudo masks come from an exponential moving
# average of the student (momentum 0.02: a time constant of 50 of the 150 iterations).
_base_ = ['./stage2_resam.py']
model = dict(self_training=dict(teacher=dict(_delete_=True, type='EMATeacher', momentum=0.02)))
