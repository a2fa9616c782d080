# Proxy shift, stage 2 "ReSAM +NPC": ReSAM with PointSAM's negative prompt calibration before
# the refine (neighbours' clicks as negatives), guarded as npc_guard in _guards.py; no PBR.
_base_ = ['./stage2_resam.py']
model = dict(
    self_training=dict(
        npc=dict(
            type='NegativePromptCalibration', iou_thr=0.1, min_kept=0.5, min_negative_distance=2.0
        )
    )
)
