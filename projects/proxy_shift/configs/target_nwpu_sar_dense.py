# A second, harder target for the proxy shift benchmark (issue 21): NWPU VHR-10's small, dense
# target classes only (ship, vehicle: parked cars and moored ships a few pixels apart at 256 px),
# with the images turned into SAR-like grey levels (luminance as backscatter, 4-look gamma
# speckle, amplitude stretched): the optical -> SAR shift of the papers, where SAM's first masks
# are poor and neighbours overlap. The class filter and the images are written once, seeded
# (proxy_shift.py restyle_target, split_by_class.sar_like):
#   python projects/proxy_shift/tools/proxy_shift.py \
#       --target-config projects/proxy_shift/configs/target_nwpu_sar_dense.py \
#       --work-dir work_dirs/proxy_shift_sar \
#       --stage1-checkpoint work_dirs/proxy_shift/stage1_sam.pth
target_type = 'NWPUVHR10Dataset'
target_root = '{split_dir}/'
target_img_prefix = 'images_sar/'
target_train_ann = '{split_dir}/target_train.json'
target_test_ann = '{split_dir}/target_test.json'
target_val_ann = '{split_dir}/target_val.json'
# only these classes' instances (files written into the work dir); point labels are sampled
# from them (no target_points_ann)
target_classes = ('ship', 'vehicle')
# images rewritten from src_prefix (the downscaled optical copies) into target_img_prefix
target_image_style = dict(type='sar', looks=4, seed=0, src_prefix='images/')
