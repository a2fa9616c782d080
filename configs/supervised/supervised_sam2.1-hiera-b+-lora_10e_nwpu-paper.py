# supervised_sam-vit-b-lora_10e_nwpu-paper.py with SAM 2.1 Hiera-B+
# (LoRA on q, v from block 12 of 24).
_base_ = ['./supervised_sam-vit-b-lora_10e_nwpu-paper.py', '../_base_/models/sam2_hiera_b+.py']
model = dict(sam={{_base_.sam2_lora_from_12}})
