# Training from a user's click file alone (the `-clicks` configs): replaces train_dataloader.
# The json is a point-label file (mmpointsam/datasets/point_labels.py) at
# <data_root>/clicks/train.json whose categories are the classes (training is class-agnostic:
# labels only name the predictions); no mask is read. Each dataset's *_selftrain.py names its
# data_root and image folder.
_base_ = ['./selftrain_views.py']
clicks_train_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PointLabelDataset',
        ann_file='clicks/train.json',
        filter_empty=True,
        pipeline={{_base_.clicks_pipeline}},
    ),
)
