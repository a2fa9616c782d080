import numpy as np
import pytest

from mmpointsam.datasets.transforms import LoadSAMAnnotations


def _results(height, width):
    return dict(
        img_path='data/x/007.jpg',
        img=np.zeros((40, 60, 3), np.uint8),
        ori_shape=(40, 60),
        img_shape=(40, 60),
        height=height,
        width=width,
        instances=[
            dict(
                bbox=[10, 5, 30, 25],
                bbox_label=2,
                ignore_flag=0,
                mask=[[10, 5, 30, 5, 30, 25, 10, 25]],
            )
        ],
    )


def test_loads_masks_at_image_size():
    res = LoadSAMAnnotations()(_results(40, 60))
    mask = res['gt_masks'].masks[0]
    assert mask.shape == (40, 60)
    assert mask[15, 20] == 1 and mask[2, 2] == 0
    assert res['gt_bboxes_labels'].tolist() == [2]


def test_image_size_differing_from_annotation_is_named():
    with pytest.raises(ValueError, match=r'007\.jpg.*60x40.*declares 61x40'):
        LoadSAMAnnotations()(_results(40, 61))
