# Proxy shift, stage 2 "PointSAM + ReSAM": NPC, PBR, refine/requery and alignment together.
_base_ = ['./stage2_pointsam.py']
model = dict(
    self_training=dict(
        refiner=dict(type='ConfidenceRefiner', threshold=0.25, requery=True),
        alignment_loss=dict(
            type='EmbeddingAlignmentLoss',
            queue_size=64,
            temperature=0.05,
            loss_weight=0.1,
            warmup_iters=40,
            dim=64,
        ),
    )
)
