# Direct SAM with MobileSAM (TinyViT encoder, mobile_sam.pt) on the NWPU VHR-10 test split.
_base_ = ['./sam-direct_sam-vit-b_nwpu.py']
model = dict(
    sam=dict(arch='vit_t', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mobile_sam.pt'))
)
