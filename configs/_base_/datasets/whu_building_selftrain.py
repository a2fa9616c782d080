# WHU building for self-training from point labels (its own val split selects checkpoints);
# the `-clicks` configs read a click file.
_base_ = ['./whu_building.py', './clicks.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
clicks_train_dataloader = dict(
    dataset=dict(data_root={{_base_.data_root}}, data_prefix=dict(img='images/train/'))
)
