# NWPU VHR-10 for stock MMRotate detectors (configs/rotated_det/): rotated-box labels of the
# 520-image training split (point -> rbox pseudo labels, or ground truth) read by mmdet's
# CocoDataset as polygon masks and turned into le90 rboxes by ConvertMask2BoxType (rc1's
# DOTADataset only finds .png images); evaluated (DOTAMetric, AP50) on the min-area rectangles
# of the 130-image split's ground-truth masks. Names start with `nwpu_rbox_` (the classes are
# nwpu_vhr10_classes.py's `nwpu_classes`): this file sits beside an `mmrotate::` base whose keys
# it must not repeat.
_base_ = './nwpu_vhr10_classes.py'
nwpu_rbox_data_root = 'data/'
nwpu_rbox_img_prefix = 'nwpu_vhr10/images/'
nwpu_rbox_img_scale = (800, 800)
# ImageNet ResNet-50 weights that fall back to random (with a warning) on a machine offline
nwpu_rbox_backbone_init_cfg = dict(
    type='PretrainedIfAvailable', _scope_='mmpointsam', checkpoint='torchvision://resnet50'
)

nwpu_rbox_train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='ConvertMask2BoxType', box_type='rbox'),
    dict(type='mmdet.Resize', scale=nwpu_rbox_img_scale, keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs'),
]
nwpu_rbox_val_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=nwpu_rbox_img_scale, keep_ratio=True),
    # loaded after Resize: ground truth stays in original pixels, as predictions are reported
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='ConvertMask2BoxType', box_type='rbox'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
# pseudo labels written by tools/point2rbox.py (the `-gt` configs: tools/dataset_converters/
# gt_rboxes.py's ground-truth boxes, nwpu_vhr10_rbox/gt_train/labels.json)
nwpu_rbox_train_dataset = dict(
    _delete_=True,
    type='mmdet.CocoDataset',
    metainfo=dict(classes=_base_.nwpu_classes),
    data_root=nwpu_rbox_data_root,
    ann_file='nwpu_vhr10_rbox/pseudo_train/labels.json',
    data_prefix=dict(img=nwpu_rbox_img_prefix),
    filter_cfg=dict(filter_empty_gt=True),
    pipeline=nwpu_rbox_train_pipeline,
)
nwpu_rbox_val_dataset = dict(
    _delete_=True,
    type='mmdet.CocoDataset',
    metainfo=dict(classes=_base_.nwpu_classes),
    data_root=nwpu_rbox_data_root,
    ann_file='nwpu_vhr10/annotations/NWPU_instances_val.json',
    data_prefix=dict(img=nwpu_rbox_img_prefix),
    test_mode=True,
    pipeline=nwpu_rbox_val_pipeline,
)
