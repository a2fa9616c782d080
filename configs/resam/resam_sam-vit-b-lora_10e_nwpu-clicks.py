# resam_sam-vit-b-lora_10e_nwpu.py trained from a click file alone
# (<data_root>/clicks/train.json; no mask is read): no validation (it needs masks), the fixed
# schedule's last weights are the result.
_base_ = ['./resam_sam-vit-b-lora_10e_nwpu.py']
train_dataloader = {{_base_.clicks_train_dataloader}}
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
