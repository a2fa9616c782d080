# ReSAM on NWPU VHR-10 from point labels: refine, requery, reinforce; LoRA (rank 4 on q, v from
# attention block 6 of 12) on SAM ViT-B.
_base_ = [
    '../_base_/models/resam_sam_vit_b.py',
    '../_base_/datasets/nwpu_vhr10_selftrain.py',
    '../_base_/schedules/adam_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=6)))
