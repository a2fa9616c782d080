# Proxy shift, stage 2 "Self-training": pseudo masks of the current weights on the weak view.
_base_ = ['./_stage2_base.py']
model = dict(
    self_training=dict(type='PointPromptSelfTraining', teacher=dict(type='CurrentWeightsTeacher'))
)
