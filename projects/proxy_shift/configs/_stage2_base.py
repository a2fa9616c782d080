# Stage 2 of the proxy shift benchmark: start from stage 1's checkpoint ("pretrained SAM") and
# adapt to the target classes. The benchmark script points `model.sam.init_cfg` at the stage-1
# checkpoint and fills the datasets from a target config (projects/proxy_shift/configs/target_*.py):
# point-label rows train on a points-only file (PointLabelDataset refusing masks), the
# supervised row on masks, and every row is evaluated on the target test annotations. Full
# fine-tuning (all parameters,
# lr 2e-5), a fixed iteration budget and the final weights: no checkpoint selection at all.
_base_ = [
    '../../../configs/_base_/datasets/nwpu_vhr10.py',
    '../../../configs/_base_/datasets/nwpu_vhr10_classes.py',
    '../../../configs/_base_/datasets/selftrain_views.py',
    '../../../configs/_base_/default_runtime.py',
    './_model.py',
]
model = dict(
    sam=dict(init_cfg=dict(type='Pretrained', checkpoint='work_dirs/proxy_shift/stage1_sam.pth'))
)
num_points = 1
max_iters = 150
point_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPointLabels', max_instances=16),
    # each axis flipped independently with probability 0.5
    dict(
        type='RandomFlipPoints',
        prob=[0.25, 0.25, 0.25],
        direction=['horizontal', 'vertical', 'diagonal'],
    ),
    {{_base_.strong_view}},
    dict(type='PackSAMInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type='PointLabelDataset',
        data_root='data/nwpu_vhr10/',
        filter_empty=True,
        forbidden_keys=('segmentation', 'bbox', 'area'),
        ann_file='proxy_shift/target_train_points_1pt.json',
        data_prefix=dict(img='images/'),
        metainfo=dict(classes=_base_.nwpu_classes),
        pipeline=point_train_pipeline,
    ),
)
test_dataloader = dict(
    num_workers=1,
    persistent_workers=True,
    dataset=dict(data_root='data/nwpu_vhr10/', ann_file='proxy_shift/target_test.json'),
)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-5, weight_decay=0.01),
    clip_grad=dict(max_norm=1.0),
)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10**9)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1, save_best=None
    ),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
