# supervised_sam-vit-b-lora_10e_nwpu.py under the public code's protocol
# (README.md here, "Paper protocol").
_base_ = ['./supervised_sam-vit-b-lora_10e_nwpu.py', '../_base_/protocols/paper_nwpu.py']
model = _base_.paper_model
train_dataloader = _base_.paper_supervised_train_dataloader
# the model is selected on the test file, as the public code does
val_dataloader = test_dataloader = _base_.paper_test_dataloader
train_cfg = _base_.paper_train_cfg
param_scheduler = _base_.paper_param_scheduler
