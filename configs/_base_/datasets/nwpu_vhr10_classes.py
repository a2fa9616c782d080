# NWPU VHR-10's ten classes in category-id order (1..10), for the configs that read NWPU with a
# generic dataset type (mmdet.CocoDataset, PointLabelDataset). A text config cannot import the
# package, so this is the configs' one copy of NWPUVHR10Dataset.METAINFO['classes'];
# tests/test_configs.py checks that the two agree.
nwpu_classes = (
    'airplane',
    'ship',
    'storage_tank',
    'baseball_diamond',
    'tennis_court',
    'basketball_court',
    'ground_track_field',
    'harbor',
    'bridge',
    'vehicle',
)
