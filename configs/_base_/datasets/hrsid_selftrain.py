# HRSID for self-training from point labels (splits as in hrsid.py); the `-clicks` configs read
# a click file.
_base_ = ['./hrsid.py', './clicks.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
clicks_train_dataloader = dict(
    dataset=dict(data_root={{_base_.data_root}}, data_prefix=dict(img='JPEGImages/'))
)
