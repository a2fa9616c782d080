# SAM ViT-B taught by itself from point prompts: the teacher (the current weights) makes pseudo
# masks on the weak view, the student learns them on the strong view.
_base_ = './sam_vit_b.py'
model = dict(
    self_training=dict(type='PointPromptSelfTraining', teacher=dict(type='CurrentWeightsTeacher'))
)
