# supervised_sam2_hrsid with 3 positive and 3 negative point prompts per instance.
_base_ = ['../supervised_sam2_hrsid.py']
num_points = 3
