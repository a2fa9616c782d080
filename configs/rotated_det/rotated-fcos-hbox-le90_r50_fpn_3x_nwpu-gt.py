# Upper bound: the same rotated FCOS (hbox) trained on GROUND-TRUTH rotated boxes of the NWPU
# train split (tools/dataset_converters/gt_rboxes.py -> data/nwpu_vhr10_rbox/gt_train/labels.json).
_base_ = './rotated-fcos-hbox-le90_r50_fpn_3x_nwpu-pseudo.py'

train_dataloader = dict(dataset=dict(ann_file='nwpu_vhr10_rbox/gt_train/labels.json'))
