# Proxy shift, stage 2 ablation "Self-training + NPC": PointSAM without PBR.
_base_ = ['./stage2_selftrain.py']
model = dict(self_training=dict(npc=dict(type='NegativePromptCalibration', iou_thr=0.1)))
