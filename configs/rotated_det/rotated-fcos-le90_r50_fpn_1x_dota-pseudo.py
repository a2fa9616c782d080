# Stock MMRotate rotated FCOS (le90, 1x; its rotated IoU loss needs CUDA) on DOTA-v1.0, trained
# on point -> rbox PSEUDO labels of DOTA train split into 1024/200 patches, validated
# (DOTAMetric, AP50) on the ground truth of DOTA val; `tools/test.py` writes Task1 files of DOTA
# test for the evaluation server.
# Data layout and the whole recipe: README.md here, "DOTA-v1.0".
_base_ = [
    'mmrotate::rotated_fcos/rotated-fcos-le90_r50_fpn_1x_dota.py',
    '../_base_/datasets/dota_rbox_pseudo.py',
]
train_dataloader = _base_.dota_pseudo_train_dataloader
val_dataloader = _base_.dota_pseudo_val_dataloader
test_dataloader = _base_.dota_pseudo_test_dataloader
test_evaluator = dict(
    **_base_.dota_pseudo_test_evaluator, outfile_prefix='./work_dirs/dota_pseudo_fcos/Task1'
)
