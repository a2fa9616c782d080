# HRSID under the public code's protocol: its INSHORE subset; shared pieces and sources in
# protocol.py. The same files as a plain dataset base: configs/_base_/datasets/hrsid_inshore.py.
_base_ = './protocol.py'

# Train on inshore_train.json, validate on inshore_test.json every epoch (the model is selected
# on it) and test on it: PointSAM configs/base_config.py L50-54, ReSAM configs/base_config.py
# L55-59 (data/HRSID/Annotations/inshore/inshore_{train,test}.json, the files shipped in both
# repositories). Both leave images out by id (datasets/HRSID.py L19-31, either repository):
# 351, 375 and 376 from the training file (also for the prototypes, gen_pt), 166 from the test
# file (its annotation 1471 has a zero-area polygon and bbox [0, 0, 0, 0]): 249 test images.
# The json files go to data/HRSID/Annotations/inshore/ (the public path); the images are the
# default's data/HRSID/JPEGImages/ (the public data/HRSID/Images holds the same files).
paper_train_ann = 'Annotations/inshore/inshore_train.json'
paper_test_ann = 'Annotations/inshore/inshore_test.json'
paper_train_exclude = [351, 375, 376]
paper_test_exclude = [166]
paper_test_dataloader = dict(
    dataset=dict(ann_file=paper_test_ann, exclude_img_ids=paper_test_exclude)
)
paper_val_dataloader = dict(
    dataset=dict(ann_file=paper_test_ann, exclude_img_ids=paper_test_exclude)
)

# x0.1 after 1500 and again after 2000 iterations: configs/config_hrsid.py L30-36 (opt.steps),
# ReSAM configs/config_hrsid.py L32-38.
paper_milestones = [1500, 2000]
paper_param_scheduler = [
    _base_.paper_warmup,
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=paper_milestones, gamma=0.1),
]
# 10 epochs: configs/config_hrsid.py L12 (PointSAM, self-training, supervised); ReSAM: 5,
# configs/config_hrsid.py L15.
paper_train_cfg = dict(max_epochs=10)
paper_resam_train_cfg = dict(max_epochs=5)

# At most 50 instances per training image, a random subset: configs/config_hrsid.py L13
# (max_nums), utils/tools.py L92-103 (reduce_instances), train_pointsam.py L62-64,
# train_selftrain.py L58-59, train_supervise.py L51-52. ReSAM: no cap (train_resam.py L146).
paper_max_instances = 50
paper_supervised_train_dataloader = dict(
    dataset=dict(
        ann_file=paper_train_ann,
        exclude_img_ids=paper_train_exclude,
        pipeline=[
            *_base_.paper_load,
            dict(type='SamplePointPrompts', num_points=1, max_instances=paper_max_instances),
            _base_.paper_pack,
        ],
    )
)
paper_selftrain_train_dataloader = dict(
    dataset=dict(
        ann_file=paper_train_ann,
        exclude_img_ids=paper_train_exclude,
        pipeline=[
            *_base_.paper_selftrain_head,
            dict(type='SamplePointPrompts', num_points=1, max_instances=paper_max_instances),
            _base_.paper_pack,
        ],
    )
)
paper_resam_train_dataloader = dict(
    dataset=dict(
        ann_file=paper_train_ann,
        exclude_img_ids=paper_train_exclude,
        pipeline=[
            *_base_.paper_selftrain_head,
            dict(type='SamplePointPrompts', num_points=1, max_instances=None),
            _base_.paper_pack,
        ],
    )
)
