# Direct SAM: zero-shot SAM ViT-B with point prompts on the NWPU VHR-10 test split (evaluation
# only; --num-points 2/3 for 2 or 3 points per instance).
_base_ = [
    '../_base_/models/sam_vit_b.py',
    '../_base_/datasets/nwpu_vhr10.py',
    '../_base_/default_runtime.py',
]
test_cfg = dict(type='TestLoop')
train_dataloader = None
val_dataloader = None
val_evaluator = None
