# Plain self-training baseline on WHU building from point labels (5 epochs, LoRA from block 1).
_base_ = [
    './_base_/models/sam_vit_b.py',
    './_base_/datasets/whu_building_selftrain.py',
    './_base_/schedules/adam_10e.py',
    './_base_/default_runtime.py',
]
model = dict(
    sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)),
    self_training=dict(type='PointPromptSelfTraining', teacher=dict(type='CurrentWeightsTeacher')),
)
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[3, 4], gamma=0.1),
]
