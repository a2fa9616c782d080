# ReSAM on HRSID: refine by confidence, requery with boxes, reinforce with embedding alignment.
_base_ = ['./selftrain_hrsid.py']
model = dict(
    self_training=dict(
        refiner=dict(type='ConfidenceRefiner', threshold=0.25, requery=True),
        alignment_loss=dict(
            type='EmbeddingAlignmentLoss',
            queue_size=64,
            temperature=0.05,
            loss_weight=0.1,
            warmup_iters=250,
        ),
    )
)
