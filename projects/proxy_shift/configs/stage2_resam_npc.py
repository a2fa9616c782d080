# Proxy shift, stage 2 "ReSAM +NPC": ReSAM with PointSAM's negative prompt calibration before
# the refine (neighbours' clicks as negatives), guarded as npc_guard in _guards.py; no PBR.
_base_ = ['./stage2_resam.py', './_guards.py']
model = dict(self_training=dict(npc={{_base_.npc_guard}}))
