# ReSAM (SAM 2.1) on HRSID (inshore) under the public code's protocol
# (README "Paper protocol (configs/paper/)"); everything else as resam_sam2_hrsid.py.
#   python tools/train.py configs/paper/resam_sam2_hrsid.py [--num-points 2/3]
_base_ = ['../resam_sam2_hrsid.py', './_base_/protocol_hrsid.py']
# SAM's input: raw [0, 1] image, centre padding; refine by p(1 - H) > 0.3 in nats at
# full resolution, requery with the box alone (protocol.py, ReSAM train_resam.py)
# the public code's loss formulas, ReSAM's (protocol.py paper_resam_losses)
model = dict(
    data_preprocessor=_base_.paper_data_preprocessor,
    **_base_.paper_resam_losses,
    self_training=dict(refiner=_base_.paper_resam_refiner),
)
# the public test file (protocol_hrsid.py, PointSAM configs/base_config.py)
test_dataloader = _base_.paper_test_dataloader
# weak flip + the public strong view, no instance cap (protocol.py, protocol_hrsid.py)
train_dataloader = _base_.paper_resam_train_dataloader
val_dataloader = _base_.paper_val_dataloader
# ReSAM's epochs, x0.1 at the same iterations (ReSAM configs/config_hrsid.py)
train_cfg = _base_.paper_resam_train_cfg
param_scheduler = _base_.paper_param_scheduler
# ReSAM keeps the last epoch, not the best (train_resam.py L306-311)
default_hooks = _base_.paper_resam_default_hooks
