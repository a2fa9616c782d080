# resam_hrsid with 3 positive and 3 negative point prompts per instance.
_base_ = ['../resam_hrsid.py']
num_points = 3
