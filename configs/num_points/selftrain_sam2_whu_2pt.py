# selftrain_sam2_whu with 2 positive and 2 negative point prompts per instance.
_base_ = ['../selftrain_sam2_whu.py']
num_points = 2
