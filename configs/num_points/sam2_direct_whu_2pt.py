# sam2_direct_whu with 2 positive and 2 negative point prompts per instance.
_base_ = ['../sam2_direct_whu.py']
num_points = 2
