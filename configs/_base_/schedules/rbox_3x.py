# 3x for the rotated detectors on NWPU VHR-10 (36 epochs of 260 iterations at batch 2), as
# MMRotate's schedule_3x; the stock configs' 1x is short for 520 images. Names start with
# `rbox_3x_`: this file sits beside an `mmrotate::` base whose keys it must not repeat.
rbox_3x_max_epochs = 36
rbox_3x_train_cfg = dict(max_epochs=rbox_3x_max_epochs, val_interval=6)
rbox_3x_param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=rbox_3x_max_epochs,
        by_epoch=True,
        milestones=[24, 33],
        gamma=0.1,
    ),
]
rbox_3x_default_hooks = dict(checkpoint=dict(interval=6, max_keep_ckpts=2))
