# HRSID SAR ship instances, as released (COCO json with polygons, JPEGImages/).
_base_ = './nwpu_vhr10.py'
dataset_type = 'HRSIDDataset'
data_root = 'data/HRSID/'
train_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='annotations/train2017.json',
    data_prefix=dict(img='JPEGImages/')))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='annotations/test2017.json',
    data_prefix=dict(img='JPEGImages/')))
test_dataloader = val_dataloader
