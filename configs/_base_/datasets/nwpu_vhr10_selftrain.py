# NWPU VHR-10 for self-training from point labels: weak (flip) and strong (photometric) views;
# validation and test splits as in nwpu_vhr10.py. Masks of the training split are only used to
# sample the points.
_base_ = './nwpu_vhr10.py'
num_points = 1
strong_view = dict(
    type='StrongView',
    transforms=[
        dict(type='RandAugment',
             aug_space=[[dict(type='Posterize')], [dict(type='Equalize')],
                        [dict(type='Sharpness')], [dict(type='Solarize')],
                        [dict(type='Brightness')], [dict(type='Contrast')]],
             aug_num=2),
        dict(type='RandomShadow', prob=0.5)
    ])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSAMAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    strong_view,
    dict(type='SamplePointPrompts', num_points=num_points, max_instances=30),
    dict(type='PackSAMInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
