# HRSID inshore (hrsid_inshore.py) for self-training from point labels.
_base_ = ['./hrsid_inshore.py', './selftrain_views.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
