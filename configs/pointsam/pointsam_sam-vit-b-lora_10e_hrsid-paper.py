# pointsam_sam-vit-b-lora_10e_hrsid.py under the public code's protocol
# (README.md here, "Paper protocol").
_base_ = ['./pointsam_sam-vit-b-lora_10e_hrsid.py', '../_base_/protocols/paper_hrsid.py']
# target prototypes from this protocol's input and training file:
#   python tools/compute_prototypes.py CONFIG --out data/prototypes/hrsid_inshore_vit_b_paper.pth
model = dict(
    **_base_.paper_model,
    self_training=dict(
        teacher=_base_.paper_teacher,
        npc=_base_.paper_npc,
        gate=_base_.paper_gate,
        prototype_loss=dict(target_prototypes='data/prototypes/hrsid_inshore_vit_b_paper.pth'),
    ),
)
train_dataloader = _base_.paper_selftrain_train_dataloader
# the model is selected on the test file, as the public code does
val_dataloader = test_dataloader = _base_.paper_test_dataloader
train_cfg = _base_.paper_train_cfg
param_scheduler = _base_.paper_param_scheduler
