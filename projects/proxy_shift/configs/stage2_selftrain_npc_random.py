# Proxy shift, stage 2 ablation "Self-training + NPC (random)": NPC as the public PointSAM code
# samples its negatives (N drawn at random from the instance's own negatives and the overlapping
# instances' positives, N = its positive count) instead of appending all of them.
_base_ = ['./stage2_selftrain_npc.py']
model = dict(self_training=dict(npc=dict(negative_sampling='random')))
