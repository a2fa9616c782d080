# PointSAM on NWPU VHR-10 from point labels: self-training + NPC + PBR, LoRA (rank 4 on q, v from
# attention block 6 of 12) on SAM ViT-B. Target prototypes first:
#   python tools/compute_prototypes.py CONFIG --out data/prototypes/nwpu_vhr10_vit_b.pth
_base_ = [
    '../_base_/models/pointsam_sam_vit_b.py',
    '../_base_/datasets/nwpu_vhr10_selftrain.py',
    '../_base_/schedules/adam_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=6)),
    self_training=dict(
        prototype_loss=dict(bank_size=128, target_prototypes='data/prototypes/nwpu_vhr10_vit_b.pth')
    ),
)
