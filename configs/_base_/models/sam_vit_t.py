# MobileSAM (TinyViT encoder, SAM's prompt encoder and mask decoder) at 1024: mobile_sam.pt.
_base_ = './sam_vit_b.py'
model = dict(
    sam=dict(arch='vit_t', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mobile_sam.pt'))
)
