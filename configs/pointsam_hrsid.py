# PointSAM on HRSID: self-training + NPC + PBR (memory bank of 512). Target prototypes:
#   python tools/compute_prototypes.py configs/pointsam_hrsid.py \
#       --out data/prototypes/hrsid_vit_b.pth
_base_ = ['./selftrain_hrsid.py']
model = dict(
    self_training=dict(
        npc=dict(type='NegativePromptCalibration', iou_thr=0.1),
        prototype_loss=dict(
            type='PrototypeRegularizer',
            target_prototypes='data/prototypes/hrsid_vit_b.pth',
            bank_size=512,
            cluster_interval=30,
            loss_weight=0.1,
        ),
    )
)
