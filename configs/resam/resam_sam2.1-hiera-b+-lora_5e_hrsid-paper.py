# resam_sam-vit-b-lora_5e_hrsid-paper.py with SAM 2.1 Hiera-B+
# (LoRA on q, v from block 2 of 24).
_base_ = ['./resam_sam-vit-b-lora_5e_hrsid-paper.py', '../_base_/models/sam2_hiera_b+.py']
model = dict(sam={{_base_.sam2_lora_from_2}})
