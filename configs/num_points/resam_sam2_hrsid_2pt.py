# resam_sam2_hrsid with 2 positive and 2 negative point prompts per instance.
_base_ = ['../resam_sam2_hrsid.py']
num_points = 2
