# PointSAM: self-training (selftrain_sam_vit_b.py) + Negative Prompt Calibration + Prototype-based
# Regularization. Each row names its target prototypes (tools/compute_prototypes.py makes them).
# Ablations: model.self_training.npc=None / model.self_training.prototype_loss=None.
_base_ = './selftrain_sam_vit_b.py'
model = dict(
    self_training=dict(
        npc=dict(type='NegativePromptCalibration', iou_thr=0.1),
        prototype_loss=dict(
            type='PrototypeRegularizer', bank_size=512, cluster_interval=30, loss_weight=0.1
        ),
    )
)
