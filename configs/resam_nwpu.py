# ReSAM on NWPU VHR-10: Refine the teacher's masks by confidence p(1 - H(p)) > 0.25, Requery SAM
# with their boxes, Reinforce with an InfoNCE alignment of box-pooled embeddings of both views.
# Ablations: refiner.requery=False (no requery) / alignment_loss=None (no alignment).
_base_ = ['./selftrain_nwpu.py']
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
