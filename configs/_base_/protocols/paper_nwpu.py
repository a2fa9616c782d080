# NWPU VHR-10 under the public code's protocol (docs/en/advanced_guides/paper_protocol.md):
# trained on the whole 520-image training file, validated (the model selected) and tested on
# the 130-image test file.
_base_ = './paper.py'

paper_train_ann = 'annotations/NWPU_instances_train.json'
paper_test_ann = 'annotations/NWPU_instances_val.json'
paper_test_dataloader = dict(dataset=dict(ann_file=paper_test_ann))

# x0.1 after 2000 and 4000 iterations; 10 epochs for every method
paper_milestones = [2000, 4000]
paper_param_scheduler = [
    _base_.paper_warmup,
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=paper_milestones, gamma=0.1),
]
paper_train_cfg = dict(max_epochs=10)
paper_resam_train_cfg = dict(max_epochs=10)

# training file; instance caps as in paper.py (50; ReSAM: none)
paper_train_dataset = dict(ann_file=paper_train_ann)
paper_supervised_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_supervised_pipeline)
)
paper_selftrain_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_selftrain_pipeline)
)
paper_resam_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_resam_pipeline)
)
