# selftrain_hrsid with SAM 2.1 Hiera-B+ (LoRA on q, v of Hiera's attention from block 2 of 24).
_base_ = ['./selftrain_hrsid.py', './_base_/models/sam2_hiera_b+.py']
model = dict(sam={{_base_.sam2_lora_from_2}})
