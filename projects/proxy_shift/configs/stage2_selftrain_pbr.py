# Proxy shift, stage 2 ablation "Self-training + PBR": PointSAM without NPC
# (stage2_pointsam.py adds NPC to this file). Target prototypes come from the stage-1 model
# (tools/compute_prototypes.py's compute_prototypes; the benchmark writes them).
_base_ = ['./stage2_selftrain.py']
model = dict(
    self_training=dict(
        prototype_loss=dict(
            type='PrototypeRegularizer',
            target_prototypes='work_dirs/proxy_shift/target_prototypes.pth',
            bank_size=128,
            cluster_interval=30,
            loss_weight=0.1,
            dim=64,
        )
    )
)
