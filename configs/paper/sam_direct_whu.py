# Direct SAM on WHU building under the public code's protocol
# (README "Paper protocol (configs/paper/)"); everything else as sam_direct_whu.py.
#   python tools/test.py configs/paper/sam_direct_whu.py [--num-points 2/3]
_base_ = ['../sam_direct_whu.py', './_base_/protocol_whu.py']
# SAM's input: raw [0, 1] image, centre padding (protocol.py, PointSAM utils/model.py L90-95)
model = dict(data_preprocessor=_base_.paper_data_preprocessor)
# the public test file (protocol_whu.py, PointSAM configs/base_config.py)
test_dataloader = _base_.paper_test_dataloader
