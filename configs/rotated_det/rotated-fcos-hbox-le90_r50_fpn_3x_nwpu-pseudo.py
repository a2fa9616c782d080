# Stock MMRotate rotated FCOS, the CPU-trainable variant (hbox IoU loss + L1 angle loss; the
# rotated IoU loss is CUDA-only and KLD gives NaN on CPU), trained on point -> rbox PSEUDO labels
# of the NWPU VHR-10 train split (tools/point2rbox.py -> data/nwpu_vhr10_rbox/pseudo_train/
# labels.json) and evaluated (DOTAMetric, AP50) on the ground truth of the 130-image split;
# only classes, data, image scale, schedule and backbone weights differ from the stock config.
_base_ = [
    'mmrotate::rotated_fcos/rotated-fcos-hbox-le90_r50_fpn_1x_dota.py',
    '../_base_/datasets/nwpu_vhr10_rbox.py',
    '../_base_/schedules/rbox_3x.py',
]
model = dict(
    backbone=dict(init_cfg=_base_.nwpu_rbox_backbone_init_cfg), bbox_head=dict(num_classes=10)
)
train_dataloader = dict(dataset=_base_.nwpu_rbox_train_dataset)
val_dataloader = dict(dataset=_base_.nwpu_rbox_val_dataset)
test_dataloader = val_dataloader
train_cfg = _base_.rbox_3x_train_cfg
param_scheduler = _base_.rbox_3x_param_scheduler
default_hooks = _base_.rbox_3x_default_hooks
