# "Supervised" upper bound on HRSID: LoRA from attention block 1, 10 epochs.
_base_ = [
    './_base_/models/sam_vit_b.py',
    './_base_/datasets/hrsid.py',
    './_base_/schedules/adam_10e.py',
    './_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)))
