# ReSAM (refine, requery, reinforce) on NWPU VHR-10, trained from a click file alone:
# configs/resam_nwpu.py with its training data read from <data_root>/clicks/train.json
# (PointLabelDataset and clicks_pipeline, configs/_base_/datasets/); no mask is read.
# No validation (it needs masks): the fixed schedule runs to its end and the last weights
# (epoch_N.pth, named in last_checkpoint) are the result. The test split keeps its masks for
# tools/test.py.
_base_ = ['../resam_nwpu.py']
train_dataloader = {{_base_.clicks_train_dataloader}}
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
work_dir = './work_dirs/clicks_resam_nwpu'
