# HRSID for self-training from point labels (splits as in hrsid.py).
_base_ = ['./hrsid.py', './selftrain_views.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
