# NWPU VHR-10 instance masks (COCO polygons), the papers' 520/130 split. Checkpoints are selected
# on splits/val.json, carved from the 520 training images (tools/dataset_converters/
# split_train_val.py; `make data` does it); the 130 test images are used for the final test only.
# `data/nwpu_vhr10` holds images/, annotations/ and splits/.
dataset_type = 'NWPUVHR10Dataset'
data_root = 'data/nwpu_vhr10/'
train_ann_file = 'splits/train.json'
val_ann_file = 'splits/val.json'
test_ann_file = 'annotations/NWPU_instances_val.json'
img_prefix = 'images/'
backend_args = None
# positive (and as many negative) points per instance: 1, 2 or 3; tools/{train,test}.py
# --num-points N changes every SamplePointPrompts of a config at once
num_points = 1
# instances per training image: bounds the iteration time on crowded images (memory does not
# grow with it: the decoder's backward runs in chunks, model.train_cfg.loss_chunk_size)
max_train_instances = 30
eval_seed = 0

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadSAMAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SamplePointPrompts', num_points=num_points, max_instances=max_train_instances),
    dict(type='PackSAMInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadSAMAnnotations'),
    dict(type='SamplePointPrompts', num_points=num_points, seed=eval_seed),
    dict(type='PackSAMInputs'),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=train_ann_file,
        data_prefix=dict(img=img_prefix),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
        backend_args=backend_args,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=val_ann_file,
        data_prefix=dict(img=img_prefix),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=test_ann_file,
        data_prefix=dict(img=img_prefix),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)
val_evaluator = dict(type='PointPromptIoUMetric')
test_evaluator = val_evaluator
