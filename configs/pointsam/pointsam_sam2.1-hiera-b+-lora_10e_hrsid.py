# pointsam_sam-vit-b-lora_10e_hrsid.py with SAM 2.1 Hiera-B+ (LoRA on q, v from block 2 of 24).
_base_ = ['./pointsam_sam-vit-b-lora_10e_hrsid.py', '../_base_/models/sam2_hiera_b+.py']
model = dict(
    sam={{_base_.sam2_lora_from_2}},
    self_training=dict(prototype_loss=dict(target_prototypes='data/prototypes/hrsid_sam2_b+.pth')),
)
