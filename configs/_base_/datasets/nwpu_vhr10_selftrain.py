# NWPU VHR-10 for self-training from point labels (splits as in nwpu_vhr10.py). Masks of the
# training split are only used to sample the points; the `-clicks` configs read a click file.
_base_ = ['./nwpu_vhr10.py', './clicks.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
clicks_train_dataloader = dict(
    dataset=dict(data_root={{_base_.data_root}}, data_prefix=dict(img='images/'))
)
