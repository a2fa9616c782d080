# Supervised upper bound on WHU building: LoRA (rank 4 on q, v from attention block 1 of 12) on
# SAM ViT-B's image encoder, trained with ground-truth masks through point prompts.
_base_ = [
    '../_base_/models/sam_vit_b.py',
    '../_base_/datasets/whu_building.py',
    '../_base_/schedules/adam_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)))
