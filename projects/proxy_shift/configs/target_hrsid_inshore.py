# A SAR target domain for the proxy shift benchmark: HRSID's inshore ships, the subset and the
# left-out images of the public PointSAM/ReSAM code (configs/_base_/datasets/hrsid_inshore.py).
# Needs HRSID under data/HRSID/ (JPEGImages/, Annotations/inshore/inshore_{train,test}.json).
# Stage 1 stays NWPU's optical source classes, so the shift is optical -> SAR. Point labels (no
# masks) are sampled once, seeded, from inshore_train's masks:
#   python projects/proxy_shift/tools/proxy_shift.py \
#       --target-config projects/proxy_shift/configs/target_hrsid_inshore.py \
#       --work-dir work_dirs/proxy_shift_hrsid \
#       --stage1-checkpoint work_dirs/proxy_shift/stage1_sam.pth
target_type = 'HRSIDDataset'
target_root = 'data/HRSID/'
target_img_prefix = 'JPEGImages/'
target_train_ann = 'Annotations/inshore/inshore_train.json'
target_test_ann = 'Annotations/inshore/inshore_test.json'
# dataset keyword arguments: the images the public code leaves out (hrsid_inshore.py says why)
target_train_options = dict(exclude_img_ids=[351, 375, 376])
target_test_options = dict(exclude_img_ids=[166])
