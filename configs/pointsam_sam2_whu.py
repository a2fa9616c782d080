# pointsam_whu with SAM 2.1 Hiera-B+ (LoRA on q, v of Hiera's attention from block 2 of 24).
# Target prototypes come from SAM 2's image embedding:
#   python tools/compute_prototypes.py configs/pointsam_sam2_whu.py \
#       --out data/prototypes/whu_building_sam2_b+.pth
_base_ = ['./pointsam_whu.py', './_base_/models/sam2_hiera_b+.py']
model = dict(
    sam={{_base_.sam2_lora_from_2}},
    self_training=dict(
        prototype_loss=dict(target_prototypes='data/prototypes/whu_building_sam2_b+.pth')
    ),
)
