# HRSID for self-training from point labels (splits as in hrsid.py).
_base_ = ['./hrsid.py', './selftrain_views.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
# Training from a click file alone (configs/clicks/): replaces train_dataloader there. The json
# is a point-label file (mmpointsam/datasets/point_labels.py); its categories are the classes
# (training is class-agnostic: labels only name the predictions). Images under JPEGImages/.
clicks_train_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PointLabelDataset',
        data_root={{_base_.data_root}},
        ann_file='clicks/train.json',
        data_prefix=dict(img='JPEGImages/'),
        filter_empty=True,
        pipeline={{_base_.clicks_pipeline}},
    ),
)
