# Proxy shift, stage 2 "Direct": the stage-1 model evaluated on the target test set as it is.
_base_ = ['./_stage2_base.py']
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
