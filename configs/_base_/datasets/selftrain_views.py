# Training pipeline of self-training from point labels: weak view (flips) and strong view (the
# weak one plus photometric changes), point prompts sampled from the instance masks.
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
selftrain_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSAMAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    strong_view,
    dict(type='SamplePointPrompts', num_points=1, max_instances=30),
    dict(type='PackSAMInputs')
]
