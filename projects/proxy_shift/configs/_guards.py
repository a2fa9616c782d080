# The guards of issue 21 as the proxy's guarded rows use them (the same values as the default
# configs in configs/pointsam/ and configs/resam/): NPC keeps the plain answer when the calibrated
# one keeps less than half of it and takes negatives only from clicks 2 decoder cells apart; the
# refine floor keeps at least half of the unrefined mask; the gate drops empty, degenerate (over
# half the image, or off its own clicks) pseudo masks from the loss.
npc_guard = dict(
    type='NegativePromptCalibration', iou_thr=0.1, min_kept=0.5, min_negative_distance=2.0
)
refine_floor = dict(min_area_ratio=0.5)
gate = dict(type='PseudoLabelGate', min_area=1, max_area_ratio=0.5, min_clicks_inside=0.5)
