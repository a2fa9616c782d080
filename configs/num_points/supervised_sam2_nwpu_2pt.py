# supervised_sam2_nwpu with 2 positive and 2 negative point prompts per instance.
_base_ = ['../supervised_sam2_nwpu.py']
num_points = 2
