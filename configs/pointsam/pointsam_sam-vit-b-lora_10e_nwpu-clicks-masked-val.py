# pointsam_sam-vit-b-lora_10e_nwpu-clicks.py plus a small validation file WITH masks (e.g. 20-50
# images you outlined yourself, COCO polygons): the epoch with the best point-prompt mIoU on it
# is kept (best_sam_mIoU_epoch_N.pth). Training still reads clicks only.
_base_ = ['./pointsam_sam-vit-b-lora_10e_nwpu-clicks.py']
# NWPU's evaluation loader (the test one) on the mask file
val_dataloader = dict(
    _base_.test_dataloader,
    _delete_=True,
    dataset=dict(_base_.test_dataloader.dataset, ann_file='clicks/val_masks.json'),
)
val_cfg = dict(_delete_=True, type='ValLoop')
val_evaluator = dict(_delete_=True, type='PointPromptIoUMetric')
default_hooks = dict(checkpoint=dict(save_best='sam/mIoU', rule='greater'))
