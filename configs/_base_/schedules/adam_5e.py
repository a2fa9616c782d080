# The papers' schedule over 5 epochs (WHU building): x0.1 steps after epochs 3 and 4.
_base_ = './adam_10e.py'
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[3, 4], gamma=0.1),
]
