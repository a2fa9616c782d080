# sam-direct_sam-vit-b_hrsid-paper.py with SAM 2.1 Hiera-B+ (zero-shot, point prompts).
_base_ = ['./sam-direct_sam-vit-b_hrsid-paper.py', '../_base_/models/sam2_hiera_b+.py']
model = dict(sam={{_base_.sam2_model}})
