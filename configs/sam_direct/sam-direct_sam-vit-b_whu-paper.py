# sam-direct_sam-vit-b_whu.py under the public code's protocol
# (README.md here, "Paper protocol").
_base_ = ['./sam-direct_sam-vit-b_whu.py', '../_base_/protocols/paper_whu.py']
model = dict(data_preprocessor=_base_.paper_data_preprocessor)
test_dataloader = _base_.paper_test_dataloader
