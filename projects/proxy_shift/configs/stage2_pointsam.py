# Proxy shift, stage 2 "PointSAM": self-training + NPC + PBR. Target prototypes come from the
# stage-1 model (tools/compute_prototypes.py's compute_prototypes; the benchmark writes them).
_base_ = ['./stage2_selftrain.py']
model = dict(
    self_training=dict(
        npc=dict(type='NegativePromptCalibration', iou_thr=0.1),
        prototype_loss=dict(
            type='PrototypeRegularizer',
            target_prototypes='work_dirs/proxy_shift/target_prototypes.pth',
            bank_size=128,
            cluster_interval=30,
            loss_weight=0.1,
            dim=64,
        ),
    )
)
