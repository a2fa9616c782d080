# sam_direct_hrsid with SAM 2.1 Hiera-B+ (zero-shot, point prompts).
_base_ = ['./sam_direct_hrsid.py', './_base_/models/sam2_hiera_b+.py']
model = dict(sam={{_base_.sam2_model}})
