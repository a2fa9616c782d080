# pointsam_sam-vit-b-lora_10e_hrsid.py trained from a click file alone
# (<data_root>/clicks/train.json; no mask is read): no validation (it needs masks), the fixed
# schedule's last weights are the result.
_base_ = ['./pointsam_sam-vit-b-lora_10e_hrsid.py']
train_dataloader = {{_base_.clicks_train_dataloader}}
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
# target prototypes from the clicks:
#   python tools/compute_prototypes.py CONFIG --out data/prototypes/hrsid_clicks_vit_b.pth
model = dict(
    self_training=dict(
        prototype_loss=dict(target_prototypes='data/prototypes/hrsid_clicks_vit_b.pth')
    )
)
