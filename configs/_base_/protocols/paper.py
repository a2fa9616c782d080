# The public code's protocol (Lans1ng/PointSAM at d95bf7a, MNaseerSubhani/ReSAM at 6bbd73a):
# the pieces shared by NWPU VHR-10, WHU and HRSID. Each value and the public file and line it
# comes from: docs/en/advanced_guides/paper_protocol.md. Every name starts with `paper_` so this
# file never collides with a key of the default row a `-paper` config inherits.

# SAM's input: the image scaled to [0, 1], no mean/std, centred padding
paper_data_preprocessor = dict(mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0), pad_mode='center')

# weak view: flip h, v or both (one third each) at p = 0.5
paper_weak_flip = dict(
    type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical', 'diagonal']
)

# strong view: six photometric ops, each at p = 0.5, in order, albumentations 1.3.1's strengths
paper_strong_view = dict(
    type='StrongView',
    transforms=[
        dict(
            type='PhotometricSequence',
            ops=[
                dict(op='posterize', bits=4, prob=0.5),
                dict(op='equalize', prob=0.5),
                dict(op='sharpen', alpha=(0.2, 0.5), lightness=(0.5, 1.0), prob=0.5),
                dict(op='solarize', threshold=128, prob=0.5),
                dict(op='brightness_contrast', brightness=0.2, contrast=0.2, prob=0.5),
                dict(
                    op='shadow',
                    roi=(0.0, 0.5, 1.0, 1.0),
                    num_shadows=(1, 2),
                    num_vertices=5,
                    lightness=0.5,
                    prob=0.5,
                ),
            ],
        )
    ],
)

# warm-up of 250 iterations (LinearLR cannot start at 0: 1e-3, the default's); the x0.1 steps
# at fixed iterations are per dataset (paper_<dataset>.py)
paper_warmup = dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250)

# Training pipelines: supervised (no augmentation), self-training (weak and strong views) and
# ReSAM (no instance cap). PointSAM and its baselines keep at most 50 random instances per
# training image (paper_whu.py: 30).
paper_load = [dict(type='LoadImageFromFile'), dict(type='LoadSAMAnnotations')]
paper_pack = dict(type='PackSAMInputs')
paper_selftrain_head = [*paper_load, paper_weak_flip, paper_strong_view]
paper_max_instances = 50
paper_supervised_pipeline = [
    *paper_load,
    dict(type='SamplePointPrompts', num_points=1, max_instances=paper_max_instances),
    paper_pack,
]
paper_selftrain_pipeline = [
    *paper_selftrain_head,
    dict(type='SamplePointPrompts', num_points=1, max_instances=paper_max_instances),
    paper_pack,
]
paper_resam_pipeline = [
    *paper_selftrain_head,
    dict(type='SamplePointPrompts', num_points=1, max_instances=None),
    paper_pack,
]

# the plain self-training baseline's teacher: a frozen copy of the starting weights
paper_selftrain_teacher = dict(type='FrozenTeacher')
# PointSAM's and ReSAM's teacher: the student's current weights (the defaults average them)
paper_teacher = dict(_delete_=True, type='CurrentWeightsTeacher')

# PointSAM's NPC: N negatives drawn at random from the calibrating points; none of this package's
# guards (issue 21: a calibrated mask may replace the plain one even when it erases it)
paper_npc = dict(
    type='NegativePromptCalibration',
    iou_thr=0.1,
    negative_sampling='random',
    min_kept=None,
    min_negative_distance=0.0,
)
# every paper row trains on every pseudo mask (no PseudoLabelGate)
paper_gate = None

# ReSAM's refine and requery: p(1 - H) > 0.3 with H in nats, on full-resolution masks; the
# requery prompt is the box alone
paper_resam_refiner = dict(
    type='ConfidenceRefiner',
    threshold=0.3,
    entropy_unit='nats',
    full_resolution=True,
    requery_prompt='box',
    requery=True,
    min_area_ratio=None,  # the fixed threshold alone, no floor (issue 21)
    max_growth=None,  # every requery answer is taken, no ceiling
)

# ReSAM keeps the last epoch, not the best
paper_resam_default_hooks = dict(checkpoint=dict(save_best=None))

# The public mask losses. Ours run on the decoder's 256 grid, the public ones on 1024 x 1024
# logits: the dice constant is scaled by the area ratio so each mask's dice stays equal.
paper_area_scale = (256 / 1024) ** 2
# PointSAM and its baselines: the mask count lands in focal alpha and dice smooth (a sum of
# per-mask focal means, a dice pooled over the masks)
paper_losses = dict(
    loss_focal=dict(
        type='MaskFocalLoss',
        alpha=1.0,
        gamma=2.0,
        loss_weight=20.0,
        formula='uniform_alpha',
        mask_reduction='sum',
    ),
    loss_dice=dict(
        type='MaskDiceLoss',
        smooth=paper_area_scale,
        loss_weight=1.0,
        reduction='pooled',
        smooth_per_mask=True,
    ),
    loss_iou=dict(type='IoUPredictionLoss', loss_weight=1.0, pred_threshold=0.5, union_eps=1e-7),
)
# sums and pooled dice are not means over masks: one decoder graph for all prompts
paper_losses_train_cfg = dict(loss_chunk_size=None)
# the model of PointSAM and its baselines: SAM's input and the public losses
paper_model = dict(
    data_preprocessor=paper_data_preprocessor, **paper_losses, train_cfg=paper_losses_train_cfg
)
# ReSAM: per-mask focal (alpha 0.8 on every pixel) and dice, averaged over masks
paper_resam_losses = dict(
    loss_focal=dict(
        type='MaskFocalLoss',
        alpha=0.8,
        gamma=2.0,
        loss_weight=20.0,
        formula='uniform_alpha',
        mask_reduction='mean',
    ),
    loss_dice=dict(type='MaskDiceLoss', smooth=paper_area_scale, loss_weight=1.0),
    loss_iou=dict(type='IoUPredictionLoss', loss_weight=1.0, pred_threshold=0.5, union_eps=1e-7),
)
paper_resam_model = dict(data_preprocessor=paper_data_preprocessor, **paper_resam_losses)

# the plain self-training baseline leaves out training images with more than 100 instances
paper_selftrain_filter_cfg = dict(max_gt_instances=100)
