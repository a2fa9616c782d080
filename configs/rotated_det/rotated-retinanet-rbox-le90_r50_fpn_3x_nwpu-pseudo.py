# Stock MMRotate rotated RetinaNet (le90, R50-FPN) trained on point -> rbox PSEUDO labels of the
# NWPU VHR-10 train split (520 images), evaluated (DOTAMetric, AP50) on the ground truth of the
# 130-image split: min-area rectangles of its GT masks (MMRotate's ConvertMask2BoxType).
#   labels: tools/benchmark/point2rbox_chain.py shows the steps (sample_point_labels.py ->
#           tools/point2rbox.py -> data/nwpu_vhr10_rbox/pseudo_train/labels.json)
#   train:  python tools/train.py \
#               configs/rotated_det/rotated-retinanet-rbox-le90_r50_fpn_3x_nwpu-pseudo.py
# Overrides of the stock config: classes, data (mmdet.CocoDataset + polygon masks +
# ConvertMask2BoxType: rc1's DOTADataset only finds .png images), image scale, schedule, and
# backbone weights that fall back to random (with a warning) on a machine without internet.
_base_ = 'mmrotate::rotated_retinanet/rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py'

classes = (
    'airplane',
    'ship',
    'storage_tank',
    'baseball_diamond',
    'tennis_court',
    'basketball_court',
    'ground_track_field',
    'harbor',
    'bridge',
    'vehicle',
)
data_root = 'data/'
train_ann_file = 'nwpu_vhr10_rbox/pseudo_train/labels.json'
val_ann_file = 'nwpu_vhr10/annotations/NWPU_instances_val.json'
img_prefix = 'nwpu_vhr10/images/'
img_scale = (800, 800)

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='PretrainedIfAvailable', _scope_='mmpointsam', checkpoint='torchvision://resnet50'
        )
    ),
    bbox_head=dict(num_classes=len(classes)),
)

train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='ConvertMask2BoxType', box_type='rbox'),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs'),
]
val_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    # loaded after Resize: ground truth stays in original pixels, as predictions are reported
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='ConvertMask2BoxType', box_type='rbox'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmdet.CocoDataset',
        metainfo=dict(classes=classes),
        data_root=data_root,
        ann_file=train_ann_file,
        data_prefix=dict(img=img_prefix),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
    )
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmdet.CocoDataset',
        metainfo=dict(classes=classes),
        data_root=data_root,
        ann_file=val_ann_file,
        data_prefix=dict(img=img_prefix),
        test_mode=True,
        pipeline=val_pipeline,
    )
)
test_dataloader = val_dataloader

# 3x (36 epochs of 260 iterations at batch 2), as MMRotate's schedule_3x; the 1x base is short
# for 520 images
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs, val_interval=6)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[24, 33], gamma=0.1
    ),
]
default_hooks = dict(checkpoint=dict(interval=6, max_keep_ckpts=2))
