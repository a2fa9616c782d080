# "Supervised" upper bound on WHU building: LoRA from attention block 1, 5 epochs.
_base_ = [
    './_base_/models/sam_vit_b.py',
    './_base_/datasets/whu_building.py',
    './_base_/schedules/adam_10e.py',
    './_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)))
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[3, 4], gamma=0.1),
]
