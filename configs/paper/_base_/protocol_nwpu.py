# NWPU VHR-10 under the public code's protocol; shared pieces and sources in protocol.py.
_base_ = './protocol.py'

# Train on the whole 520-image training file, validate on the 130-image test file every epoch
# (the model is selected on it) and test on it: PointSAM configs/base_config.py L40-44
# (annotation_file_train / annotation_file_val; ReSAM configs/base_config.py L45-49), read by
# datasets/NWPU.py load_datasets_soft / load_datasets. The default's data_root and images/ folder
# (data/nwpu_vhr10/images = the public data/NWPU/Images).
paper_train_ann = 'annotations/NWPU_instances_train.json'
paper_test_ann = 'annotations/NWPU_instances_val.json'
paper_test_dataloader = dict(dataset=dict(ann_file=paper_test_ann))
paper_val_dataloader = dict(dataset=dict(ann_file=paper_test_ann))

# x0.1 after 2000 and again after 4000 iterations: configs/config_nwpu.py L30-36 (opt.steps),
# ReSAM configs/config_nwpu.py L29-35.
paper_milestones = [2000, 4000]
paper_param_scheduler = [
    _base_.paper_warmup,
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=paper_milestones, gamma=0.1),
]
# 10 epochs: configs/config_nwpu.py L12 (PointSAM, self-training, supervised); ReSAM
# configs/config_nwpu.py L12.
paper_train_cfg = dict(max_epochs=10)
paper_resam_train_cfg = dict(max_epochs=10)

# At most 50 instances per training image, a random subset: configs/config_nwpu.py L13
# (max_nums), utils/tools.py L92-103 (reduce_instances), train_pointsam.py L62-64,
# train_selftrain.py L58-59, train_supervise.py L51-52. ReSAM: no cap (train_resam.py L146).
paper_max_instances = 50
paper_supervised_train_dataloader = dict(
    dataset=dict(
        ann_file=paper_train_ann,
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
        pipeline=[
            *_base_.paper_selftrain_head,
            dict(type='SamplePointPrompts', num_points=1, max_instances=None),
            _base_.paper_pack,
        ],
    )
)
