# Proxy domain-shift benchmark (projects/proxy_shift/tools/proxy_shift.py): the SAM-architecture
# model that is trained from scratch on CPU. SAM's ViT image encoder / prompt encoder / two-way mask
# decoder, narrowed: 4 ViT blocks of width 128 (windowed attention, 2 global blocks), a 64-d
# decoder, 256 px input (16 x 16 tokens, 64 x 64 mask logits). All parameters train, nothing is
# pretrained.
custom_imports = dict(imports=['projects.proxy_shift.proxy_shift'], allow_failed_imports=False)
img_size = 256
sam_arch = dict(
    type='vit', embed_dim=128, depth=4, num_heads=4, global_attn_indexes=(1, 3), window_size=8
)
sam_decoder = dict(embed_dim=64, mlp_dim=256, num_heads=4, iou_head_hidden_dim=64)
model = dict(
    type='PointSAM',
    data_preprocessor=dict(type='SAMDataPreprocessor', img_size=img_size),
    sam=dict(
        type='SAM',
        arch=sam_arch,
        decoder=sam_decoder,
        img_size=img_size,
        lora=None,
        trainable=('image_encoder', 'prompt_encoder', 'mask_decoder'),
        # segment-anything's own decoder path, as in the reported runs (they were started while
        # the prompt-batched decoder had a float32 GELU-backward bug, fixed in 6ae9154; its
        # gradients now equal these, tests/test_models/test_prompt_batched_decoder.py)
        prompt_batched_decoder=False,
    ),  # no init_cfg: random init
    loss_focal=dict(type='MaskFocalLoss', alpha=0.8, gamma=2.0, loss_weight=20.0),
    loss_dice=dict(type='MaskDiceLoss', smooth=1.0, loss_weight=1.0),
    loss_iou=dict(type='IoUPredictionLoss', loss_weight=1.0),
    test_cfg=dict(multimask_output=False),
)
