# pointsam_sam-vit-b-lora_10e_nwpu-clicks.py plus a small validation file WITH masks (e.g. 20-50
# images you outlined yourself, COCO polygons): the epoch with the best point-prompt mIoU on it
# is kept (best_sam_mIoU_epoch_N.pth). Training still reads clicks only.
_base_ = ['./pointsam_sam-vit-b-lora_10e_nwpu-clicks.py']
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='NWPUVHR10Dataset',
        data_root='data/nwpu_vhr10/',
        ann_file='clicks/val_masks.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
    ),
)
val_cfg = dict(_delete_=True, type='ValLoop')
val_evaluator = dict(_delete_=True, type='PointPromptIoUMetric')
default_hooks = dict(checkpoint=dict(save_best='sam/mIoU', rule='greater'))
