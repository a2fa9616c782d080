# "Direct SAM": zero-shot SAM ViT-B with point prompts on the HRSID test split.
#   python tools/test.py configs/sam_direct_hrsid.py                       (1 point)
#   python tools/test.py configs/sam_direct_hrsid.py --num-points 3
_base_ = [
    './_base_/models/sam_vit_b.py',
    './_base_/datasets/hrsid.py',
    './_base_/default_runtime.py',
]
test_cfg = dict(type='TestLoop')
# evaluation only: no training or validation loops
train_dataloader = None
val_dataloader = None
val_evaluator = None
