# selftrain_sam-vit-b-lora_10e_nwpu.py under the public code's protocol
# (README.md here, "Paper protocol").
_base_ = ['./selftrain_sam-vit-b-lora_10e_nwpu.py', '../_base_/protocols/paper_nwpu.py']
model = dict(
    **_base_.paper_model,
    self_training=dict(teacher=_base_.paper_selftrain_teacher, gate=_base_.paper_gate),
)
# images with more than 100 instances left out of training
train_dataloader = dict(
    dataset=dict(
        **_base_.paper_selftrain_train_dataloader.dataset,
        filter_cfg=_base_.paper_selftrain_filter_cfg,
    )
)
# the model is selected on the test file, as the public code does
val_dataloader = test_dataloader = _base_.paper_test_dataloader
train_cfg = _base_.paper_train_cfg
param_scheduler = _base_.paper_param_scheduler
