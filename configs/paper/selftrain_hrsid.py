# Self-training baseline on HRSID (inshore) under the public code's protocol
# (README "Paper protocol (configs/paper/)"); everything else as selftrain_hrsid.py.
#   python tools/train.py configs/paper/selftrain_hrsid.py [--num-points 2/3]
_base_ = ['../selftrain_hrsid.py', './_base_/protocol_hrsid.py']
# SAM's input: raw [0, 1] image, centre padding (protocol.py); the teacher is the
# frozen starting model (protocol.py, train_selftrain.py L175-180)
# the public code's loss formulas, in one decoder graph (protocol.py paper_losses)
model = dict(
    data_preprocessor=_base_.paper_data_preprocessor,
    **_base_.paper_losses,
    train_cfg=_base_.paper_losses_train_cfg,
    self_training=dict(teacher=_base_.paper_selftrain_teacher),
)
# the public test file (protocol_hrsid.py, PointSAM configs/base_config.py)
test_dataloader = _base_.paper_test_dataloader
# weak flip + the public strong view, instance cap (protocol.py, protocol_hrsid.py)
# images with more than 100 instances left out (protocol.py, train_selftrain.py L55-57)
train_dataloader = dict(
    dataset=dict(
        **_base_.paper_selftrain_train_dataloader.dataset,
        filter_cfg=_base_.paper_selftrain_filter_cfg,
    )
)
val_dataloader = _base_.paper_val_dataloader
# x0.1 at fixed iterations, epochs per dataset (protocol_hrsid.py, configs/config_hrsid.py)
train_cfg = _base_.paper_train_cfg
param_scheduler = _base_.paper_param_scheduler
