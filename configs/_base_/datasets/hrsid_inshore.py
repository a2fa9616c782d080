# HRSID's inshore subset, the split of the public PointSAM/ReSAM code: trained on
# Annotations/inshore/inshore_train.json, the model selected on and tested on
# Annotations/inshore/inshore_test.json (250 images, 249 used), the json files as shipped in
# those repositories, images in JPEGImages/. Images the public code leaves out are left out here
# (exclude_img_ids; docs/en/advanced_guides/paper_protocol.md). The default configs keep the full
# HRSID (hrsid.py).
_base_ = './hrsid.py'
inshore_train_ann = 'Annotations/inshore/inshore_train.json'
inshore_test_ann = 'Annotations/inshore/inshore_test.json'
train_dataloader = dict(dataset=dict(ann_file=inshore_train_ann, exclude_img_ids=[351, 375, 376]))
val_dataloader = dict(dataset=dict(ann_file=inshore_test_ann, exclude_img_ids=[166]))
test_dataloader = dict(dataset=dict(ann_file=inshore_test_ann, exclude_img_ids=[166]))
