# Plain self-training baseline on WHU building from point labels: LoRA (rank 4 on q, v from
# attention block 1 of 12) on SAM ViT-B, the current weights as the teacher.
_base_ = [
    '../_base_/models/selftrain_sam_vit_b.py',
    '../_base_/datasets/whu_building_selftrain.py',
    '../_base_/schedules/adam_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)))
