# PointSAM on WHU building from point labels: self-training + NPC + PBR, LoRA (rank 4 on q, v from
# attention block 1 of 12) on SAM ViT-B. Target prototypes first:
#   python tools/compute_prototypes.py CONFIG --out data/prototypes/whu_building_vit_b.pth
_base_ = [
    '../_base_/models/pointsam_sam_vit_b.py',
    '../_base_/datasets/whu_building_selftrain.py',
    '../_base_/schedules/adam_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    sam=dict(lora=dict(r=4, targets=('q', 'v'), first_block=1)),
    self_training=dict(
        prototype_loss=dict(target_prototypes='data/prototypes/whu_building_vit_b.pth')
    ),
)
