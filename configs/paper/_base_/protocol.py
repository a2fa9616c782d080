# The public code's protocol, the pieces shared by NWPU VHR-10, WHU and HRSID (README "Paper
# protocol (configs/paper/)"). Public code read: Lans1ng/PointSAM at d95bf7a (PointSAM and its
# self-training and supervised baselines; "PointSAM:" below) and MNaseerSubhani/ReSAM at 6bbd73a
# ("ReSAM:"). Paths are files of those repositories, L = line. Every name starts with `paper_`
# so this file never collides with a key of the default row config a paper config inherits.

# Input to SAM: the image scaled to [0, 1] (torchvision ToTensor), no mean/std, padded to a square
# with the resized image in the centre. PointSAM: datasets/tools.py L10-49 (ResizeAndPad:
# pad_w = (max_dim - w) // 2) and utils/model.py L90-95 (image_encoder(images), no preprocess);
# ReSAM: the same files.
paper_data_preprocessor = dict(mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0), pad_mode='center')

# Weak view: albumentations Flip() at p=0.5, i.e. horizontal, vertical or both, one third each.
# PointSAM: datasets/augmentation.py L11-15, datasets/tools.py L79-90 (soft_transform). mmcv
# splits a float prob evenly over the listed directions; 'diagonal' is both flips.
paper_weak_flip = dict(
    type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical', 'diagonal']
)

# Strong view: the weak image through albumentations.Compose([Posterize(), Equalize(), Sharpen(),
# Solarize(), RandomBrightnessContrast(), RandomShadow()]): each op at its own p=0.5, in this
# order, with albumentations 1.3.1's default settings (requirements.txt: albumentations==1.3.1).
# PointSAM: datasets/augmentation.py L17-26; ReSAM: datasets/augmentation.py L17-26. Defaults
# read in albumentations 1.3.1 augmentations/transforms.py: Posterize num_bits=4 (fixed),
# Equalize mode='cv' by_channels=True, Sharpen alpha=(0.2, 0.5) lightness=(0.5, 1.0) (random),
# Solarize threshold=128 (fixed), RandomBrightnessContrast limits 0.2/0.2 by max (random),
# RandomShadow roi (0, 0.5, 1, 1), 1-2 shadows of 5 vertices, lightness x0.5.
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

# Learning rate: Adam, lr 5e-4, weight decay 1e-4, batch size 1 (configs/config_*.py "opt",
# "batch_size"; train_pointsam.py L208-223, ReSAM train_resam.py L330-345): the default's values.
# LambdaLR per iteration: step/250 for 250 warm-up steps, then x0.1 after opt.steps[0] and
# again after opt.steps[1] ITERATIONS (the milestones are per dataset, protocol_<dataset>.py).
# MMEngine's LinearLR cannot start at 0; 1e-3 (the default's) is the closest.
paper_warmup = dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250)

# Pipelines (the caps, max_instances, are per dataset and method: protocol_<dataset>.py).
# Supervised baseline: no flip, no augmentation (datasets/NWPU.py, WHU.py, HRSID.py
# load_datasets: ResizeAndPad only).
paper_load = [dict(type='LoadImageFromFile'), dict(type='LoadSAMAnnotations')]
paper_pack = dict(type='PackSAMInputs')
# self-training (plain, PointSAM, ReSAM): weak view and strong view, then point prompts
paper_selftrain_head = [*paper_load, paper_weak_flip, paper_strong_view]

# The plain self-training baseline's teacher is a frozen copy of the starting weights, not the
# student's current ones: train_selftrain.py L175 anchor_model = copy_model(model) (deepcopy +
# freeze, utils/tools.py L63-66), L180 passed as teacher_model, L63 used for the pseudo masks.
# FrozenTeacher is that copy, taken at the first iteration (after the weights load). PointSAM and
# ReSAM use the current weights (train_pointsam.py
# L74, train_resam.py L154/L193), as the default rows do.
paper_selftrain_teacher = dict(type='FrozenTeacher')

# PointSAM's NPC: the instance's own N negatives plus the N positives of every instance whose
# teacher mask overlaps it (IoU > 0.1), then N drawn at random from those (utils/utils.py
# L109-135, random.sample at L133).
paper_npc = dict(type='NegativePromptCalibration', iou_thr=0.1, negative_sampling='random')

# ReSAM's refine and requery (train_resam.py L59-77, L154-193): confidence p * (1 - H(p)) > 0.3
# with H in nats (torch.log; the normalised entropy at L73 is unused), on the full-resolution
# 1024 x 1024 masks (utils/model.py decode interpolates to the input size), pixels claimed by two
# instances dropped (L165-176), and SAM requeried with the box of what is left, alone (L193).
paper_resam_refiner = dict(
    type='ConfidenceRefiner',
    threshold=0.3,
    entropy_unit='nats',
    full_resolution=True,
    requery_prompt='box',
    requery=True,
)

# Checkpoints. PointSAM and its baselines validate on the test file every epoch and keep the
# best (train_pointsam.py L200-205, train_selftrain.py L112-117, train_supervise.py L89-94):
# the default's save_best='sam/mIoU'. ReSAM validates every epoch but saves unconditionally
# (train_resam.py L306-311: "best_model.pth" is overwritten by every epoch), i.e. keeps the LAST.
paper_resam_default_hooks = dict(checkpoint=dict(save_best=None))

# Mask losses, total 20 focal + dice + IoU MSE as the default's, with the public code's
# formulas (utils/losses.py of either repository; the defaults keep Lin et al.'s focal loss and a
# dice per mask). Here the losses are on the decoder's L x L grid (256 for 1024 inputs), the
# public code's on the logits upsampled to 1024 x 1024 (utils/model.py L169-175): the dice
# constant is scaled by the area, (256 / 1024)^2 = 1/16 (sums over 1024^2 pixels are ~16x those
# over 256^2), so that a dice here approximates the public one at 1024 px.
# PointSAM, its self-training and supervised baselines: the batch's mask count N lands in the
# `alpha` of FocalLoss and the `smooth` of DiceLoss (train_pointsam.py L156-159,
# train_selftrain.py L73-76, train_supervise.py L64-66), one image per batch
# (configs/config_*.py L9): focal = 20 * N * mean over all N masks' pixels of
# (1 - exp(-BCE))^2 * BCE = 20 * the SUM over masks of each mask's pixel mean (alpha 0.8 never
# applies); dice = 1 - (2 sum_m I_m + N) / (sum_m P_m + sum_m G_m + N), pooled over the masks;
# IoU: MSE against calc_iou (logits >= 0.5, I / (U + 1e-7)), mean over masks.
paper_area_scale = (256 / 1024) ** 2
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
# sums and pooled dice are not means over masks: one decoder graph for all prompts (the public
# code decodes an image's prompts at once, utils/model.py L122-144), not chunks of 8
paper_losses_train_cfg = dict(loss_chunk_size=None)
# ReSAM: FocalLoss and DiceLoss per instance with their defaults (alpha 0.8 on every pixel,
# smooth 1), summed and divided by the mask count (train_resam.py L227-235, L258-259): means
# over masks, which chunks of prompts keep (ReSAM itself steps per 50 instances, L146).
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

# The plain self-training baseline skips every training image with more than 100 instances,
# before the cap (train_selftrain.py L55-57: `continue`, no optimizer or scheduler step); PointSAM
# (train_pointsam.py L62-64), supervised and ReSAM keep them. Here the training file drops them
# (logged by the dataset).
paper_selftrain_filter_cfg = dict(max_gt_instances=100)
