# Another target domain for the proxy shift benchmark: HRSID SAR ships, as released
# (annotations/train2017.json, test2017.json, JPEGImages/). Point labels (no masks) are sampled
# once from train2017's masks by the benchmark, seeded:
#   python projects/proxy_shift/tools/proxy_shift.py \
#       --target-config projects/proxy_shift/configs/target_hrsid.py
target_type = 'HRSIDDataset'
target_root = 'data/HRSID/'
target_img_prefix = 'JPEGImages/'
target_train_ann = 'annotations/train2017.json'
target_test_ann = 'annotations/test2017.json'
