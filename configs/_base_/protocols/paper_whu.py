# WHU building under the public code's protocol (docs/en/advanced_guides/paper_protocol.md):
# trained on WHU_building_train.json, validated (the model selected) and tested on
# WHU_building_val.json, whose images are under images/val/.
_base_ = './paper.py'

paper_train_ann = 'annotations/WHU_building_train.json'
paper_test_ann = 'annotations/WHU_building_val.json'
paper_test_dataloader = dict(
    dataset=dict(ann_file=paper_test_ann, data_prefix=dict(img='images/val/'))
)

# x0.1 after 8000 and 15000 iterations; 5 epochs, ReSAM 10
paper_milestones = [8000, 15000]
paper_param_scheduler = [
    _base_.paper_warmup,
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=paper_milestones, gamma=0.1),
]
paper_train_cfg = dict(max_epochs=5)
paper_resam_train_cfg = dict(max_epochs=10)

# at most 30 random instances per training image (NWPU, HRSID: 50); ReSAM keeps them all
paper_max_instances = 30
paper_supervised_pipeline = [
    *_base_.paper_load,
    dict(type='SamplePointPrompts', num_points=1, max_instances=paper_max_instances),
    _base_.paper_pack,
]
paper_selftrain_pipeline = [
    *_base_.paper_selftrain_head,
    dict(type='SamplePointPrompts', num_points=1, max_instances=paper_max_instances),
    _base_.paper_pack,
]
paper_train_dataset = dict(ann_file=paper_train_ann)
paper_supervised_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=paper_supervised_pipeline)
)
paper_selftrain_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=paper_selftrain_pipeline)
)
paper_resam_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_resam_pipeline)
)
