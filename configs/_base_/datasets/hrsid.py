# HRSID SAR ship instances, as released (COCO json with polygons, JPEGImages/); validation on
# splits/ carved from train2017 by tools/dataset_converters/split_train_val.py.
_base_ = './nwpu_vhr10.py'
dataset_type = 'HRSIDDataset'
data_root = 'data/HRSID/'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/train.json',
        data_prefix=dict(img='JPEGImages/'),
    )
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/val.json',
        data_prefix=dict(img='JPEGImages/'),
    )
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/test2017.json',
        data_prefix=dict(img='JPEGImages/'),
    )
)
