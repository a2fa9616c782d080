import numpy as np

from mmpointsam.datasets.transforms import RandomShadow, StrongView


def test_strong_view_is_photometric_and_keeps_the_weak_image():
    img = np.random.default_rng(0).integers(0, 255, (32, 40, 3), dtype=np.uint8)
    view = StrongView(transforms=[dict(type='RandomShadow', prob=1.0, darkness=(0.5, 0.5))])
    res = view(dict(img=img.copy(), img_shape=(32, 40)))
    assert np.array_equal(res['img'], img)  # the weak view is untouched
    assert res['img_strong'].shape == img.shape
    darker = res['img_strong'].astype(int) <= img.astype(int)
    assert darker.all() and (res['img_strong'] != img).any()


def test_random_shadow_probability_zero_is_identity():
    img = np.full((8, 8, 3), 200, dtype=np.uint8)
    assert np.array_equal(RandomShadow(prob=0.0)(dict(img=img))['img'], img)


def test_strong_view_rejects_geometric_transforms():
    import pytest

    img = np.zeros((16, 20, 3), dtype=np.uint8)
    view = StrongView(transforms=[dict(type='mmdet.Resize', scale=(10, 10), keep_ratio=False)])
    with pytest.raises(ValueError, match='photometric'):
        view(dict(img=img, img_shape=(16, 20)))
