# Supervised LoRA fine-tuning of MobileSAM on NWPU VHR-10. TinyViT has 10 attention blocks;
# LoRA from index 5 adapts the deeper half, as block 6 of 12 does for ViT-B.
_base_ = ['./supervised_sam-vit-b-lora_10e_nwpu.py']
model = dict(
    sam=dict(
        arch='vit_t',
        lora=dict(r=4, targets=('q', 'v'), first_block=5),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mobile_sam.pt'),
    )
)
