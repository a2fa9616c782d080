# supervised_sam2_whu with 3 positive and 3 negative point prompts per instance.
_base_ = ['../supervised_sam2_whu.py']
num_points = 3
