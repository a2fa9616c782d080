# HRSID under the public code's protocol (docs/en/advanced_guides/paper_protocol.md): its
# INSHORE subset, trained on inshore_train.json, validated (the model selected) and tested on
# inshore_test.json, the images the public code leaves out left out (249 test images). The same
# files as a plain dataset base: configs/_base_/datasets/hrsid_inshore.py.
_base_ = './paper.py'

paper_train_ann = 'Annotations/inshore/inshore_train.json'
paper_test_ann = 'Annotations/inshore/inshore_test.json'
paper_train_exclude = [351, 375, 376]
paper_test_exclude = [166]  # its annotation 1471 is a zero-area polygon
paper_test_dataloader = dict(
    dataset=dict(ann_file=paper_test_ann, exclude_img_ids=paper_test_exclude)
)

# x0.1 after 1500 and 2000 iterations; 10 epochs, ReSAM 5
paper_milestones = [1500, 2000]
paper_param_scheduler = [
    _base_.paper_warmup,
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=paper_milestones, gamma=0.1),
]
paper_train_cfg = dict(max_epochs=10)
paper_resam_train_cfg = dict(max_epochs=5)

# training file; instance caps as in paper.py (50; ReSAM: none)
paper_train_dataset = dict(ann_file=paper_train_ann, exclude_img_ids=paper_train_exclude)
paper_supervised_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_supervised_pipeline)
)
paper_selftrain_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_selftrain_pipeline)
)
paper_resam_train_dataloader = dict(
    dataset=dict(**paper_train_dataset, pipeline=_base_.paper_resam_pipeline)
)
