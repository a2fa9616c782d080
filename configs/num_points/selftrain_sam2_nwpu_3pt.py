# selftrain_sam2_nwpu with 3 positive and 3 negative point prompts per instance.
_base_ = ['../selftrain_sam2_nwpu.py']
num_points = 3
