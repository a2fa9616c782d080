# PointSAM on NWPU VHR-10: self-training + Negative Prompt Calibration + Prototype-based
# Regularization. Make the target prototypes first:
#   python tools/compute_prototypes.py configs/pointsam_nwpu.py \
#       --out data/prototypes/nwpu_vhr10_vit_b.pth
# Ablations: --cfg-options model.self_training.npc=None / model.self_training.prototype_loss=None
_base_ = ['./selftrain_nwpu.py']
model = dict(
    self_training=dict(
        npc=dict(type='NegativePromptCalibration', iou_thr=0.1),
        prototype_loss=dict(
            type='PrototypeRegularizer',
            target_prototypes='data/prototypes/nwpu_vhr10_vit_b.pth',
            bank_size=128,
            cluster_interval=30,
            loss_weight=0.1,
        ),
    )
)
