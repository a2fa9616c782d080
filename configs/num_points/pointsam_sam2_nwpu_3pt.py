# pointsam_sam2_nwpu with 3 positive and 3 negative point prompts per instance.
_base_ = ['../pointsam_sam2_nwpu.py']
num_points = 3
