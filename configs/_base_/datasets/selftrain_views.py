# Training pipelines of self-training from point labels: weak view (flips) and strong view (the
# weak one plus photometric changes).
# - selftrain_pipeline, the papers' protocol ('resample from masks'): point prompts are redrawn
#   from the ground-truth instance masks at every iteration (1 positive inside, 1 negative
#   outside each mask), so masks are read although the loss never sees them.
# - clicks_pipeline (the `-clicks` configs, clicks.py): a user's click file (PointLabelDataset),
#   no mask read anywhere. Each instance keeps its clicks; one negative is added from the image's
#   other instances' clicks or its background clicks (LoadPointLabels), the same prompt shape as
#   the papers' 1-point protocol but with negatives on objects rather than anywhere outside the
#   mask. Flips move the clicks (RandomFlipPoints).
strong_view = dict(
    type='StrongView',
    transforms=[
        dict(
            type='RandAugment',
            aug_space=[
                [dict(type='Posterize')],
                [dict(type='Equalize')],
                [dict(type='Sharpness')],
                [dict(type='Solarize')],
                [dict(type='Brightness')],
                [dict(type='Contrast')],
            ],
            aug_num=2,
        ),
        dict(type='RandomShadow', prob=0.5),
    ],
)
selftrain_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSAMAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    strong_view,
    dict(type='SamplePointPrompts', num_points=1, max_instances=30),
    dict(type='PackSAMInputs'),
]
clicks_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='LoadPointLabels',
        negatives=('other_instances', 'background'),
        num_neg_points=1,
        max_instances=30,
    ),
    dict(type='RandomFlipPoints', prob=0.5, direction=['horizontal', 'vertical']),
    strong_view,
    dict(type='PackSAMInputs'),
]
