# SAM ViT-B at 1024, prompted with points. Weights: the official sam_vit_b_01ec64.pth, loaded
# strictly by SAM.init_weights; set `model.sam.init_cfg=None` for random weights (tests, demos).
# Precision: `model.sam.encoder_autocast='bf16'` runs the encoder in bf16 for inference; bf16
# mixed-precision TRAINING is the one switch `optim_wrapper.type='BF16OptimWrapper'` (schedule
# config; CPU or GPU; off by default; fp32 weights, gradients, optimizer state and losses).
# Speed: `model.sam.attention` is 'fused' (SDPA, the same maths; 'reference' = segment-anything's
# module) and `model.sam.compile_encoder=True` compiles the encoder (off: see the "Encoder
# roofline" section of docs/en/benchmarks.md).
img_size = 1024
model = dict(
    type='PointSAM',
    data_preprocessor=dict(type='SAMDataPreprocessor', img_size=img_size),
    sam=dict(
        type='SAM',
        arch='vit_b',
        img_size=img_size,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/sam_vit_b_01ec64.pth'),
    ),
    loss_focal=dict(type='MaskFocalLoss', alpha=0.8, gamma=2.0, loss_weight=20.0),
    loss_dice=dict(type='MaskDiceLoss', smooth=1.0, loss_weight=1.0),
    loss_iou=dict(type='IoUPredictionLoss', loss_weight=1.0),
    # the decoder's backward runs 8 prompts at a time: memory does not grow with object count
    train_cfg=dict(loss_chunk_size=8),
    test_cfg=dict(multimask_output=False),
)
