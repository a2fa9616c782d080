# Target domain of the proxy shift benchmark: NWPU VHR-10's ship, harbor, bridge and vehicle
# (projects/proxy_shift/tools/split_by_class.py). A target config names a dataset class, where the
# images lie, the training annotations with masks (only the supervised upper bound trains on the
# masks; point labels are sampled from them once, seeded, unless point files are given) and the test
# annotations (evaluation only).
target_type = 'NWPUVHR10Dataset'
# '{split_dir}' is filled in by the benchmark (--split-dir; it holds images/, downscaled)
target_root = '{split_dir}/'
target_img_prefix = 'images/'
target_train_ann = '{split_dir}/target_train.json'
target_test_ann = '{split_dir}/target_test.json'
# optional: the validation part carved from the training images (--eval-split val)
target_val_ann = '{split_dir}/target_val.json'
# point-label files (no masks), '{num_points}' = points per instance; omit to let the benchmark
# sample them
target_points_ann = '{split_dir}/target_train_points_{num_points}pt.json'
