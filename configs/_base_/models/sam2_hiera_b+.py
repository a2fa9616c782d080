# SAM 2.1 Hiera-B+ at 1024 as the `model.sam` of any row (the sam2.1-hiera-b+ configs):
#   model = dict(sam={{_base_.sam2_model}})        direct evaluation (no LoRA)
#   model = dict(sam={{_base_.sam2_lora_from_12}})  LoRA rows (first block, see below)
# Weights: the official sam2.1_hiera_base_plus.pt (weights under its `model` key), loaded strictly
# by SAM2.init_weights except its video-only tensors (memory attention/encoder, object pointers;
# mmpointsam.models.sam.sam2.VIDEO_ONLY_PREFIXES). `model.sam.init_cfg=None`: random weights.
sam2_model = dict(
    type='SAM2',
    arch='hiera_b+',
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/sam2.1_hiera_base_plus.pt'),
)
# LoRA rows: the ViT-B rows adapt q and v from block 6 (NWPU) or 1 (WHU, HRSID) of 12; Hiera-B+
# has 24 attention blocks, so the SAM 2 rows start at block 2b for ViT-B's block b. Rank and
# targets stay the row's.
sam2_lora_from_12 = dict(sam2_model, lora=dict(first_block=12))
sam2_lora_from_2 = dict(sam2_model, lora=dict(first_block=2))
