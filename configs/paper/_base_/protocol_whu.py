# WHU building under the public code's protocol; shared pieces and sources in protocol.py.
_base_ = './protocol.py'

# Train on the whole training file, validate on WHU_building_val.json every epoch (the model is
# selected on it) and test on it: PointSAM configs/base_config.py L45-49 (annotation_file_train /
# annotation_file_val; ReSAM configs/base_config.py L50-54), images of the training file under
# train/image and of the other under val/image (datasets/WHU.py L38-41). Here the public json
# files sit in the default's data/whu_building/annotations/ and the images in its
# images/train/ and images/val/.
paper_train_ann = 'annotations/WHU_building_train.json'
paper_test_ann = 'annotations/WHU_building_val.json'
paper_test_dataloader = dict(
    dataset=dict(ann_file=paper_test_ann, data_prefix=dict(img='images/val/'))
)
paper_val_dataloader = dict(
    dataset=dict(ann_file=paper_test_ann, data_prefix=dict(img='images/val/'))
)

# x0.1 after 8000 and again after 15000 iterations: configs/config_whu.py L30-36 (opt.steps),
# ReSAM configs/config_whu.py L32-38.
paper_milestones = [8000, 15000]
paper_param_scheduler = [
    _base_.paper_warmup,
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=paper_milestones, gamma=0.1),
]
# 5 epochs: configs/config_whu.py L12 (PointSAM, self-training, supervised); ReSAM: 10,
# configs/config_whu.py L15.
paper_train_cfg = dict(max_epochs=5)
paper_resam_train_cfg = dict(max_epochs=10)

# At most 30 instances per training image, a random subset: configs/config_whu.py L13
# (max_nums), utils/tools.py L92-103 (reduce_instances), train_pointsam.py L62-64,
# train_selftrain.py L58-59, train_supervise.py L51-52. ReSAM: no cap (train_resam.py L146).
paper_max_instances = 30
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
