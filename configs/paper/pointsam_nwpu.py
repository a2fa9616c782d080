# PointSAM on NWPU VHR-10 under the public code's protocol
# (README "Paper protocol (configs/paper/)"); everything else as pointsam_nwpu.py.
#   python tools/train.py configs/paper/pointsam_nwpu.py [--num-points 2/3]
_base_ = ['../pointsam_nwpu.py', './_base_/protocol_nwpu.py']
# SAM's input: raw [0, 1] image, centre padding; NPC draws its negatives at random
# (protocol.py: PointSAM utils/model.py L90-95, utils/utils.py L109-135)
# PBR's target prototypes from this protocol's input and training file (utils/utils.py
# offline_prototypes_generation on the training file, train_pointsam.py L270):
#   python tools/compute_prototypes.py configs/paper/pointsam_nwpu.py \
#       --out data/prototypes/nwpu_vhr10_vit_b_paper.pth
# the public code's loss formulas, in one decoder graph (protocol.py paper_losses)
model = dict(
    data_preprocessor=_base_.paper_data_preprocessor,
    **_base_.paper_losses,
    train_cfg=_base_.paper_losses_train_cfg,
    self_training=dict(
        npc=_base_.paper_npc,
        prototype_loss=dict(target_prototypes='data/prototypes/nwpu_vhr10_vit_b_paper.pth'),
    ),
)
# the public test file (protocol_nwpu.py, PointSAM configs/base_config.py)
test_dataloader = _base_.paper_test_dataloader
# weak flip + the public strong view, instance cap (protocol.py, protocol_nwpu.py)
train_dataloader = _base_.paper_selftrain_train_dataloader
val_dataloader = _base_.paper_val_dataloader
# x0.1 at fixed iterations, epochs per dataset (protocol_nwpu.py, configs/config_nwpu.py)
train_cfg = _base_.paper_train_cfg
param_scheduler = _base_.paper_param_scheduler
