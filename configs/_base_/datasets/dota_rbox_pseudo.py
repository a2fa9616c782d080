# DOTA-v1.0 split into 1024/200 patches (MMRotate's img_split.py, single scale) for stock MMRotate
# detectors (configs/rotated_det/*_dota-pseudo.py): trained on point -> rbox PSEUDO labels of the
# train patches, validated (DOTAMetric, AP50) on the ground truth of the val patches; DOTA test
# has no public labels, so the test loader reads its patches alone and the detections are merged
# per scene into Task1 files for the evaluation server. Names start with `dota_pseudo_`: this
# file sits beside an `mmrotate::` base whose keys it must not repeat.
dota_pseudo_data_root = 'data/split_ss_dota/'
dota_pseudo_train_dataloader = dict(
    dataset=dict(
        data_root=dota_pseudo_data_root,
        ann_file='train_pseudo/annfiles/',
        data_prefix=dict(img_path='train_pseudo/images/'),
    )
)
dota_pseudo_val_dataloader = dict(
    dataset=dict(
        data_root=dota_pseudo_data_root,
        ann_file='val/annfiles/',
        data_prefix=dict(img_path='val/images/'),
    )
)
dota_pseudo_test_dataloader = dict(
    dataset=dict(
        data_root=dota_pseudo_data_root,
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
dota_pseudo_test_evaluator = dict(type='DOTAMetric', format_only=True, merge_patches=True)
