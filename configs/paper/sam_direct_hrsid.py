# Direct SAM on HRSID (inshore) under the public code's protocol
# (README "Paper protocol (configs/paper/)"); everything else as sam_direct_hrsid.py.
#   python tools/test.py configs/paper/sam_direct_hrsid.py [--num-points 2/3]
_base_ = ['../sam_direct_hrsid.py', './_base_/protocol_hrsid.py']
# SAM's input: raw [0, 1] image, centre padding (protocol.py, PointSAM utils/model.py L90-95)
model = dict(data_preprocessor=_base_.paper_data_preprocessor)
# the public test file (protocol_hrsid.py, PointSAM configs/base_config.py)
test_dataloader = _base_.paper_test_dataloader
