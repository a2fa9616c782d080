# resam_sam-vit-b-lora_10e_hrsid.py under the public code's protocol
# (README.md here, "Paper protocol").
_base_ = ['./resam_sam-vit-b-lora_10e_hrsid.py', '../_base_/protocols/paper_hrsid.py']
model = dict(
    **_base_.paper_resam_model,
    self_training=dict(
        teacher=_base_.paper_teacher, refiner=_base_.paper_resam_refiner, gate=_base_.paper_gate
    ),
)
train_dataloader = _base_.paper_resam_train_dataloader
# the model is selected on the test file, as the public code does
val_dataloader = test_dataloader = _base_.paper_test_dataloader
train_cfg = _base_.paper_resam_train_cfg
param_scheduler = _base_.paper_param_scheduler
default_hooks = _base_.paper_resam_default_hooks
