# PointSAM (self-training + NPC + PBR) on NWPU VHR-10, trained from a click file alone:
# configs/pointsam_nwpu.py with its training data read from <data_root>/clicks/train.json
# (PointLabelDataset and clicks_pipeline, configs/_base_/datasets/); no mask is read.
# No validation (it needs masks): the fixed schedule runs to its end and the last weights
# (epoch_N.pth, named in last_checkpoint) are the result. The test split keeps its masks for
# tools/test.py.
# Target prototypes from the clicks (no masks):
#   python tools/compute_prototypes.py configs/clicks/pointsam_nwpu.py \
#       --out data/prototypes/nwpu_vhr10_clicks_vit_b.pth
_base_ = ['../pointsam_nwpu.py']
train_dataloader = {{_base_.clicks_train_dataloader}}
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
model = dict(
    self_training=dict(
        prototype_loss=dict(target_prototypes='data/prototypes/nwpu_vhr10_clicks_vit_b.pth')
    )
)
work_dir = './work_dirs/clicks_pointsam_nwpu'
