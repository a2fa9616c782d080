"""Tests of the validating COCO instance datasets (NWPU VHR-10 subset in tests/data, tiny fakes)."""

import json
import os.path as osp
from collections import Counter

import cv2
import numpy as np
import pytest

from mmpointsam.datasets import (
    CocoInstanceDataset,
    HRSIDDataset,
    InvalidAnnotationError,
    NWPUVHR10Dataset,
    WHUBuildingDataset,
)
from mmpointsam.registry import DATASETS

NWPU_ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'nwpu_vhr10')


def _nwpu_classes():
    """The subset's category names in id order (ids 1..10): the order the labels must follow."""
    with open(osp.join(NWPU_ROOT, 'annotations', 'train.json')) as f:
        categories = json.load(f)['categories']
    return tuple(c['name'] for c in sorted(categories, key=lambda c: c['id']))


NWPU_CLASSES = _nwpu_classes()

# ---------------------------------------------------------------- real NWPU VHR-10 subset


@pytest.mark.parametrize('split,test_mode', [('train', False), ('val', True)])
def test_nwpu_subset_loads(split, test_mode):
    ann_file = osp.join(NWPU_ROOT, 'annotations', f'{split}.json')
    with open(ann_file) as f:
        coco = json.load(f)
    cat_names = {c['id']: c['name'] for c in coco['categories']}
    expected = {}  # file_name -> Counter of class labels
    for img in coco['images']:
        expected[img['file_name']] = Counter(
            NWPU_CLASSES.index(cat_names[a['category_id']])
            for a in coco['annotations']
            if a['image_id'] == img['id']
        )

    ds = DATASETS.build(
        dict(
            type='NWPUVHR10Dataset',
            data_root=NWPU_ROOT,
            ann_file=f'annotations/{split}.json',
            data_prefix=dict(img='images/'),
            test_mode=test_mode,
        )
    )
    assert isinstance(ds, NWPUVHR10Dataset)
    assert ds.metainfo['classes'] == NWPU_CLASSES
    assert len(ds.metainfo['palette']) == 10
    assert len(ds) == 4 == len(coco['images'])
    sizes = {img['file_name']: (img['width'], img['height']) for img in coco['images']}
    got = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        name = osp.basename(info['img_path'])
        assert osp.exists(info['img_path'])
        assert (info['width'], info['height']) == sizes[name]
        assert all('mask' in inst for inst in info['instances'])
        got[name] = Counter(inst['bbox_label'] for inst in info['instances'])
    assert got == expected
    assert sum(sum(c.values()) for c in got.values()) == len(coco['annotations'])


def test_nwpu_subset_covers_several_classes():
    labels = set()
    for split in ('train', 'val'):
        with open(osp.join(NWPU_ROOT, 'annotations', f'{split}.json')) as f:
            labels |= {a['category_id'] for a in json.load(f)['annotations']}
    assert len(labels) >= 5


def test_single_class_datasets():
    assert WHUBuildingDataset.METAINFO['classes'] == ('building',)
    assert HRSIDDataset.METAINFO['classes'] == ('ship',)
    for name in ('CocoInstanceDataset', 'NWPUVHR10Dataset', 'WHUBuildingDataset', 'HRSIDDataset'):
        assert DATASETS.get(name) is not None


# ---------------------------------------------------------------- tiny fakes in tmp_path

W, H = 20, 16
GOOD_POLY = [2, 2, 12, 2, 12, 10, 2, 10]
GOOD_BBOX = [2, 2, 10, 8]
MISSING = 'missing'  # marks an annotation without a segmentation key


def _ann(ann_id, image_id, segmentation=None, bbox=None, category_id=1, **kw):
    """A COCO annotation; a good square polygon and bbox unless given."""
    ann = dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        segmentation=[list(GOOD_POLY)] if segmentation is None else segmentation,
        bbox=list(GOOD_BBOX) if bbox is None else bbox,
        area=80.0,
        iscrowd=0,
    )
    ann.update(kw)
    if segmentation == MISSING:
        del ann['segmentation']
    return ann


def _build(
    tmp_path,
    anns,
    image_names=('a.jpg',),
    write=None,
    sizes=None,
    cls=NWPUVHR10Dataset,
    categories=None,
    **kwargs,
):
    """Write images + json into tmp_path and build ``cls`` on them."""
    (tmp_path / 'imgs').mkdir(exist_ok=True)
    write = image_names if write is None else write
    sizes = sizes or {}
    images = []
    for i, name in enumerate(image_names, start=1):
        w, h = sizes.get(name, (W, H))
        images.append(dict(id=i, file_name=name, width=w, height=h))
        if name in write:
            assert cv2.imwrite(str(tmp_path / 'imgs' / name), np.zeros((h, w, 3), np.uint8))
    if categories is None:
        categories = [dict(id=i + 1, name=n) for i, n in enumerate(cls.METAINFO['classes'])]
    with open(tmp_path / 'ann.json', 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=categories), f)
    return cls(
        data_root=str(tmp_path), ann_file='ann.json', data_prefix=dict(img='imgs/'), **kwargs
    )


def test_tiny_valid_dataset(tmp_path):
    ds = _build(tmp_path, [_ann(1, 1), _ann(2, 1, category_id=10)])
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert [inst['bbox_label'] for inst in info['instances']] == [0, 9]
    assert (info['width'], info['height']) == (W, H)


@pytest.mark.parametrize(
    'ann,fault',
    [
        (_ann(7, 1, category_id=11), 'category_id 11'),
        (_ann(7, 1, category_id=0), 'category_id 0'),
        (_ann(7, 1, segmentation=[]), 'empty segmentation'),
        (_ann(7, 1, segmentation=MISSING), 'empty segmentation'),
        (_ann(7, 1, segmentation=[[1, 1, 5, 5]]), 'fewer than 3 points'),
        (_ann(7, 1, segmentation=[[1, 1, 5, 5, 3]]), 'odd number of coordinates'),
        (_ann(7, 1, segmentation=[[1, 1, float('nan'), 5, 3, 9]]), 'non-finite'),
        (_ann(7, 1, segmentation=[[1, 1, float('inf'), 5, 3, 9]]), 'non-finite'),
        (_ann(7, 1, segmentation=[GOOD_POLY, [1, 1, 'x', 5, 3, 9]]), 'broken polygon'),
        (_ann(7, 1, segmentation=[[1, 1, 5, 5, 9, 9]]), 'zero area'),
        (_ann(7, 1, segmentation=[[3, 3, 3, 3, 3, 3, 3, 3]]), 'zero area'),
        (_ann(7, 1, segmentation=[[2, 2, W + 5, 2, 10, 10]]), 'polygon outside the image'),
        (_ann(7, 1, segmentation=[[-3, 2, 10, 2, 10, 10]]), 'polygon outside the image'),
        (_ann(7, 1, segmentation=[[2, 2, 10, 2, 10, H + 1.5]]), 'polygon outside the image'),
        (_ann(7, 1, bbox=[2, 2, W + 5, 8]), 'outside the image'),
        (_ann(7, 1, bbox=[-2, 2, 5, 5]), 'outside the image'),
        (_ann(7, 1, bbox=[2, 2, 5]), 'broken bbox'),
    ],
    ids=lambda v: v if isinstance(v, str) else '',
)
def test_invalid_annotation_raises(tmp_path, ann, fault):
    anns = [_ann(1, 1), ann]
    with pytest.raises(InvalidAnnotationError) as excinfo:
        _build(tmp_path, anns)
    msg = str(excinfo.value)
    assert fault in msg
    assert 'ann.json' in msg
    assert 'a.jpg' in msg
    assert 'annotation id 7' in msg
    assert isinstance(excinfo.value, ValueError)


def test_missing_image_raises(tmp_path):
    with pytest.raises(InvalidAnnotationError) as excinfo:
        _build(
            tmp_path, [_ann(1, 1), _ann(2, 2)], image_names=('a.jpg', 'gone.jpg'), write=('a.jpg',)
        )
    msg = str(excinfo.value)
    assert 'gone.jpg' in msg and 'image file not found' in msg and 'ann.json' in msg


def test_error_is_raised_in_test_mode_too(tmp_path):
    with pytest.raises(InvalidAnnotationError, match='category_id 42'):
        _build(tmp_path, [_ann(1, 1, category_id=42)], test_mode=True)


def test_lazy_init_defers_validation(tmp_path):
    ds = _build(tmp_path, [_ann(1, 1, segmentation=[])], lazy_init=True)
    with pytest.raises(InvalidAnnotationError, match='empty segmentation'):
        ds.full_init()


def test_coordinates_within_tolerance_accepted(tmp_path):
    # Sub-pixel overshoot at the image border (e.g. rounding) is fine; exactly on the border too.
    poly = [-0.5, 0, W + 0.5, 0, W, H + 1.0, 0, H]
    ds = _build(tmp_path, [_ann(1, 1, segmentation=[poly], bbox=[-0.5, 0, W + 1.0, H + 1.0])])
    assert len(ds.get_data_info(0)['instances']) == 1


def test_rle_segmentation_accepted(tmp_path):
    rle = dict(size=[H, W], counts=[W * 2 + 2, 5, H * W - W * 2 - 7])
    ds = _build(tmp_path, [_ann(1, 1, segmentation=rle)])
    assert ds.get_data_info(0)['instances'][0]['mask'] == rle


def test_multi_polygon_accepted_and_each_part_checked(tmp_path):
    ds = _build(tmp_path, [_ann(1, 1, segmentation=[GOOD_POLY, [14, 1, 18, 1, 18, 5]])])
    assert len(ds) == 1
    with pytest.raises(InvalidAnnotationError, match='fewer than 3 points'):
        _build(tmp_path, [_ann(1, 1, segmentation=[GOOD_POLY, [14, 1, 18, 1]])])


@pytest.mark.parametrize('test_mode', [False, True])
def test_images_without_instances_skipped(tmp_path, monkeypatch, test_mode):
    logged = []
    monkeypatch.setattr(
        'mmpointsam.datasets.coco_instance.print_log', lambda msg, *a, **k: logged.append(msg)
    )
    names = ('a.jpg', 'empty.jpg', 'c.jpg', 'crowd_only.jpg')
    anns = [_ann(1, 1), _ann(2, 3), _ann(3, 3), _ann(4, 4, iscrowd=1)]
    ds = _build(tmp_path, anns, image_names=names, test_mode=test_mode)
    kept = [osp.basename(ds.get_data_info(i)['img_path']) for i in range(len(ds))]
    assert kept == ['a.jpg', 'c.jpg']
    assert [len(ds.get_data_info(i)['instances']) for i in range(len(ds))] == [1, 2]
    assert len(logged) == 1
    assert 'NWPUVHR10Dataset: skipped 2 of 4 images with no instances in' in logged[0]
    assert 'ann.json' in logged[0]


def test_nothing_logged_when_nothing_skipped(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(
        'mmpointsam.datasets.coco_instance.print_log', lambda msg, *a, **k: logged.append(msg)
    )
    _build(tmp_path, [_ann(1, 1)])
    assert logged == []


def test_min_size_filter_kept_like_coco(tmp_path):
    names = ('small.jpg', 'big.jpg')
    sizes = {'small.jpg': (W, H), 'big.jpg': (64, 48)}
    anns = [_ann(1, 1), _ann(2, 2)]
    train = _build(tmp_path, anns, image_names=names, sizes=sizes, filter_cfg=dict(min_size=32))
    assert [osp.basename(train.get_data_info(i)['img_path']) for i in range(len(train))] == [
        'big.jpg'
    ]
    test = _build(
        tmp_path, anns, image_names=names, sizes=sizes, filter_cfg=dict(min_size=32), test_mode=True
    )
    assert len(test) == 2


def test_single_class_dataset_on_its_own_json(tmp_path):
    ds = _build(tmp_path, [_ann(1, 1), _ann(2, 1)], cls=WHUBuildingDataset)
    assert ds.metainfo['classes'] == ('building',)
    assert [inst['bbox_label'] for inst in ds.get_data_info(0)['instances']] == [0, 0]
    with pytest.raises(InvalidAnnotationError, match='category_id 2'):
        _build(tmp_path, [_ann(1, 1, category_id=2)], cls=HRSIDDataset)


def test_base_class_with_custom_classes(tmp_path):
    ds = _build(
        tmp_path,
        [_ann(1, 1, category_id=2)],
        cls=CocoInstanceDataset,
        categories=[dict(id=1, name='car'), dict(id=2, name='truck')],
        metainfo=dict(classes=('car', 'truck')),
    )
    assert ds.get_data_info(0)['instances'][0]['bbox_label'] == 1


# ---------------------------------------------------------------- never fail silently (#13)

BOWTIE = [2, 2, 18, 14, 18, 2, 2, 6]  # crosses itself, shoelace area > 0


def test_all_images_without_instances_is_an_error_naming_the_file(tmp_path):
    # before: MMEngine's "need at least one array to concatenate" from an empty dataset
    anns = [_ann(1, 1, category_id=1, iscrowd=1)]
    with pytest.raises(InvalidAnnotationError) as excinfo:
        _build(tmp_path, anns, image_names=('a.jpg', 'b.jpg'))
    msg = str(excinfo.value)
    assert 'ann.json' in msg and '2 of 2 images have zero instances' in msg


def test_self_intersecting_polygon_warns_by_default_and_errors_on_request(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(
        'mmpointsam.datasets.coco_instance.print_log', lambda msg, *a, **k: logged.append(msg)
    )
    ds = _build(tmp_path, [_ann(1, 1), _ann(7, 1, segmentation=[BOWTIE])])
    assert len(ds.get_data_info(0)['instances']) == 2 and ds.num_invalid_polygons == 1
    assert len(logged) == 1
    assert all(
        s in logged[0]
        for s in ('ann.json', 'a.jpg', 'annotation id 7', 'self-intersecting polygon')
    )
    with pytest.raises(InvalidAnnotationError) as excinfo:
        _build(tmp_path, [_ann(1, 1), _ann(7, 1, segmentation=[BOWTIE])], invalid_polygon='error')
    msg = str(excinfo.value)
    assert all(
        s in msg for s in ('ann.json', 'a.jpg', 'annotation id 7', 'self-intersecting polygon')
    )
    with pytest.raises(ValueError, match='invalid_polygon'):
        _build(tmp_path, [_ann(1, 1)], invalid_polygon='ignore')
