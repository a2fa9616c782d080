# sam2_direct_whu with 3 positive and 3 negative point prompts per instance.
_base_ = ['../sam2_direct_whu.py']
num_points = 3
