# ReSAM on HRSID from point labels: refine, requery, reinforce; LoRA (rank 4 on q, v from
# attention block 1 of 12) on SAM ViT-B.
_base_ = [
    '../_base_/models/resam_sam_vit_b.py',
    '../_base_/datasets/hrsid_selftrain.py',
    '../_base_/schedules/adam_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)))
