# Supervised LoRA on NWPU VHR-10 under the public code's protocol
# (README "Paper protocol (configs/paper/)"); everything else as supervised_nwpu.py.
#   python tools/train.py configs/paper/supervised_nwpu.py [--num-points 2/3]
_base_ = ['../supervised_nwpu.py', './_base_/protocol_nwpu.py']
# SAM's input: raw [0, 1] image, centre padding (protocol.py, PointSAM utils/model.py L90-95)
# the public code's loss formulas, in one decoder graph (protocol.py paper_losses)
model = dict(
    data_preprocessor=_base_.paper_data_preprocessor,
    **_base_.paper_losses,
    train_cfg=_base_.paper_losses_train_cfg,
)
# the public test file (protocol_nwpu.py, PointSAM configs/base_config.py)
test_dataloader = _base_.paper_test_dataloader
# trained on the whole training file, the model selected on the test file every epoch
train_dataloader = _base_.paper_supervised_train_dataloader
val_dataloader = _base_.paper_val_dataloader
# x0.1 at fixed iterations, epochs per dataset (protocol_nwpu.py, configs/config_nwpu.py)
train_cfg = _base_.paper_train_cfg
param_scheduler = _base_.paper_param_scheduler
