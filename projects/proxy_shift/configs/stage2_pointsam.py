# Proxy shift, stage 2 "PointSAM": self-training + NPC + PBR, i.e. the "Self-training + PBR" row
# (stage2_selftrain_pbr.py: its prototype loss, target prototypes from the stage-1 model) plus NPC.
_base_ = ['./stage2_selftrain_pbr.py']
model = dict(self_training=dict(npc=dict(type='NegativePromptCalibration', iou_thr=0.1)))
