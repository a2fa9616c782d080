# PointSAM on WHU building: self-training + NPC + PBR (memory bank of 512). Target prototypes:
#   python tools/compute_prototypes.py configs/pointsam_whu.py \
#       --out data/prototypes/whu_building_vit_b.pth
_base_ = ['./selftrain_whu.py']
model = dict(
    self_training=dict(
        npc=dict(type='NegativePromptCalibration', iou_thr=0.1),
        prototype_loss=dict(
            type='PrototypeRegularizer',
            target_prototypes='data/prototypes/whu_building_vit_b.pth',
            bank_size=512,
            cluster_interval=30,
            loss_weight=0.1,
        ),
    )
)
