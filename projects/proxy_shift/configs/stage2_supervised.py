# Proxy shift, stage 2 "Supervised" upper bound: target MASKS, points sampled from them.
_base_ = ['./_stage2_base.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='NWPUVHR10Dataset',
        data_root='data/nwpu_vhr10/',
        ann_file='proxy_shift/target_train.json',
        data_prefix=dict(img='images/'),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadSAMAnnotations'),
            dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
            dict(type='SamplePointPrompts', num_points=1, max_instances=16),
            dict(type='PackSAMInputs'),
        ],
    )
)
