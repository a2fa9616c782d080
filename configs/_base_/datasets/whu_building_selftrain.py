# WHU building for self-training from point labels (its own val split selects checkpoints).
_base_ = ['./whu_building.py', './selftrain_views.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
