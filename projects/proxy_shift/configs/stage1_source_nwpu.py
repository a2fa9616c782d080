# Stage 1 of the proxy shift benchmark: train the small SAM FROM SCRATCH with full masks of the
# NWPU VHR-10 SOURCE classes (airplane, storage tank, baseball diamond, tennis court, basketball
# court, ground track field); its checkpoint plays "pretrained SAM" for stage 2. Prompts follow
# SAM's own training (InteractivePromptSimulation): each instance starts from 1 to 3 positive
# (+ as many negative) points or, half the time, its noisy box alone; then corrective points from
# the previous prediction's errors, with that prediction as the mask prompt. So the box and
# mask-prompt paths that ReSAM's requery uses are trained, as in a real SAM. The best checkpoint on
# source_val (carved from the 520 training images) is kept; source_test (from the 130) is only
# for the final report. Files: projects/proxy_shift/tools/split_by_class.py.
_base_ = [
    '../../../configs/_base_/datasets/nwpu_vhr10.py',
    '../../../configs/_base_/default_runtime.py',
    './_model.py',
]
model = dict(supervision=dict(type='InteractivePromptSimulation', rounds=3, box_prob=0.5))
data_root = 'data/nwpu_vhr10/'
num_points = 1
max_iters = 3000
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSAMAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomNumPointPrompts', choices=(1, 2, 3), max_instances=16),
    dict(type='PackSAMInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root, ann_file='proxy_shift/source_train.json', pipeline=train_pipeline
    ),
)
val_dataloader = dict(
    num_workers=1,
    persistent_workers=True,
    dataset=dict(data_root=data_root, ann_file='proxy_shift/source_val.json'),
)
test_dataloader = dict(
    num_workers=1,
    persistent_workers=True,
    dataset=dict(data_root=data_root, ann_file='proxy_shift/source_test.json'),
)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=1.0),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters // 2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters // 2,
        max_keep_ckpts=1,
        save_best='sam/mIoU',
        rule='greater',
    ),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
