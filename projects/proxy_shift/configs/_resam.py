# ReSAM's parts as the proxy rows use them (refine by confidence + requery with boxes, and the
# alignment of box-pooled embeddings), for the rows that add them to another row.
resam_refiner = dict(type='ConfidenceRefiner', threshold=0.25, requery=True)
resam_alignment = dict(
    type='EmbeddingAlignmentLoss',
    queue_size=64,
    temperature=0.05,
    loss_weight=0.1,
    warmup_iters=40,
    dim=64,
)
