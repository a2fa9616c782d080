default_scope = 'mmpointsam'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='sam/mIoU', rule='greater'
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # a NaN/inf loss stops training naming the iteration and term; no non-finite checkpoint
    finite_loss=dict(type='FiniteLossHook'),
    # self-training: warn when the pseudo masks drift toward collapse (empty share up, area down
    # against the first iterations'); silent for runs that log no pseudo-mask statistics
    pseudo_monitor=dict(type='PseudoLabelMonitorHook'),
    # first images of every evaluation, prediction beside ground truth, in <work_dir>/<time>/vis;
    # during self-training set train_interval=N to also see pseudo masks beside the student's
    visualization=dict(type='SAMVisualizationHook', num_images=4, train_interval=None),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SAMVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
