# Plain self-training baseline on NWPU VHR-10 from point labels: LoRA (rank 4 on q, v from
# attention block 6 of 12) on SAM ViT-B, the current weights as the teacher.
_base_ = [
    '../_base_/models/selftrain_sam_vit_b.py',
    '../_base_/datasets/nwpu_vhr10_selftrain.py',
    '../_base_/schedules/adam_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=6)))
