# PointSAM on NWPU VHR-10 with an EMA teacher (MMEngine's ExponentialMovingAverage) instead of
# the published current-weights teacher.
_base_ = ['./pointsam_sam-vit-b-lora_10e_nwpu.py']
model = dict(self_training=dict(teacher=dict(type='EMATeacher', momentum=0.001)))
