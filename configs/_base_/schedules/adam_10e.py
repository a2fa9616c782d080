# The papers' schedule: Adam, lr 5e-4, weight decay 1e-4, 250-iteration linear warm-up, x0.1 steps.
max_epochs = 10
optim_wrapper = dict(
    type='OptimWrapper',  # 'BF16OptimWrapper': bf16 mixed-precision training (README, speed)
    optimizer=dict(type='Adam', lr=5e-4, weight_decay=1e-4),
    clip_grad=None,
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[7, 9], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# base learning rate for batch size 1, for --auto-scale-lr
auto_scale_lr = dict(enable=False, base_batch_size=1)
