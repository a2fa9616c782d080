# sam2_direct_nwpu with 2 positive and 2 negative point prompts per instance.
_base_ = ['../sam2_direct_nwpu.py']
num_points = 2
