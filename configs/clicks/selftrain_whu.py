# Plain self-training on WHU building, trained from a click file alone:
# configs/selftrain_whu.py with its training data read from <data_root>/clicks/train.json
# (PointLabelDataset and clicks_pipeline, configs/_base_/datasets/); no mask is read.
# No validation (it needs masks): the fixed schedule runs to its end and the last weights
# (epoch_N.pth, named in last_checkpoint) are the result. The test split keeps its masks for
# tools/test.py.
_base_ = ['../selftrain_whu.py']
train_dataloader = {{_base_.clicks_train_dataloader}}
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
work_dir = './work_dirs/clicks_selftrain_whu'
