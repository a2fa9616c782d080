# NWPU VHR-10 for self-training from point labels (splits as in nwpu_vhr10.py). Masks of the
# training split are only used to sample the points.
_base_ = ['./nwpu_vhr10.py', './selftrain_views.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.selftrain_pipeline}}))
