# Point labels -> rotated-box pseudo labels with tools/test.py (MobileSAM + NPC), the same
# conversion as tools/point2rbox.py but through MMEngine's test loop (no resume):
#   python tools/test.py configs/point2rbox/point2rbox_mobilesam-vit-t_nwpu.py --sam-checkpoint none
# writes data/nwpu_vhr10_rbox/pseudo_train_test_py/{labels.json,annfiles/}. Make the point labels
# first: python tools/dataset_converters/sample_point_labels.py \
#   data/nwpu_vhr10/annotations/NWPU_instances_train.json data/nwpu_vhr10_rbox/points_train.json
_base_ = ['../_base_/models/sam_vit_t.py', '../_base_/default_runtime.py']

model = dict(test_cfg=dict(npc=dict(type='NegativePromptCalibration', iou_thr=0.1)))

data_root = 'data/'
point_json = 'nwpu_vhr10_rbox/points_train.json'
out_dir = 'data/nwpu_vhr10_rbox/pseudo_train_test_py'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPointLabels'),
    dict(
        type='PackSAMInputs',
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'flip',
            'flip_direction',
            'height',
            'width',
            'file_name',
            'instance_ids',
        ),
    ),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PointLabelDataset',
        data_root=data_root,
        ann_file=point_json,
        data_prefix=dict(img='nwpu_vhr10/images/'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_evaluator = dict(type='RBoxDumpMetric', out_dir=out_dir, method='largest')
test_cfg = dict(type='TestLoop')
train_dataloader = None
val_dataloader = None
val_evaluator = None
