# ReSAM: self-training (selftrain_sam_vit_b.py) that Refines the teacher's masks by confidence
# p(1 - H(p)) > 0.25, Requeries SAM with their boxes and Reinforces with an InfoNCE alignment of
# box-pooled embeddings of both views.
# Ablations: model.self_training.refiner.requery=False / model.self_training.alignment_loss=None.
_base_ = './selftrain_sam_vit_b.py'
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
