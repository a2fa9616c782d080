# Plain self-training baseline on NWPU VHR-10 from point labels: the teacher (current weights)
# makes pseudo masks on the weak view, the student learns them on the strong view.
_base_ = [
    './_base_/models/sam_vit_b.py',
    './_base_/datasets/nwpu_vhr10_selftrain.py',
    './_base_/schedules/adam_10e.py',
    './_base_/default_runtime.py',
]
model = dict(
    sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=6)),
    self_training=dict(type='PointPromptSelfTraining', teacher=dict(type='CurrentWeightsTeacher')),
)
