# Stock MMRotate rotated RetinaNet (le90, 1x) on DOTA-v1.0, trained on point -> rbox PSEUDO labels
# of DOTA train split into 1024/200 patches, validated (DOTAMetric, AP50) on the ground truth of
# DOTA val; `tools/test.py` writes Task1 files of DOTA test for the evaluation server.
# Data layout and the whole recipe: docs/point2rbox.md, "DOTA-v1.0".
#   python tools/train.py configs/rotated_det/rotated-retinanet-rbox-le90_r50_fpn_1x_dota-pseudo.py
_base_ = 'mmrotate::rotated_retinanet/rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py'

data_root = 'data/split_ss_dota/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='train_pseudo/annfiles/',
        data_prefix=dict(img_path='train_pseudo/images/'),
    )
)
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='val/annfiles/', data_prefix=dict(img_path='val/images/')
    )
)
# DOTA test has no public labels: detections on its patches, merged per scene, as Task1 files
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='',
        data_prefix=dict(img_path='test/images/'),
        pipeline=[
            dict(type='mmdet.LoadImageFromFile'),
            dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
            dict(
                type='mmdet.PackDetInputs',
                meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
            ),
        ],
    )
)
test_evaluator = dict(
    type='DOTAMetric',
    format_only=True,
    merge_patches=True,
    outfile_prefix='./work_dirs/dota_pseudo_retinanet/Task1',
)
