"""The point-label json schema (#25): integer, unique ids, references to listed images and
categories, points, labels and flags; every fault of a file in one error. And the sampler's
summary says what was skipped only when something was."""

import json
import os.path as osp

import pytest

from mmpointsam.datasets import (
    PointLabelDataset,
    load_point_labels,
    point_labels,
    sample_point_labels,
)

DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'nwpu_vhr10')
GT_JSON = osp.join(DATA, 'annotations', 'val.json')


@pytest.fixture(scope='module')
def points(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('points') / 'points.json')
    sample_point_labels(GT_JSON, path, seed=0)
    with open(path) as f:
        return json.load(f)


def _write(tmp_path, data):
    path = tmp_path / 'points.json'
    path.write_text(json.dumps(data))
    return str(path)


def test_string_image_id_and_duplicate_ids_are_named_together(points, tmp_path):
    data = json.loads(json.dumps(points))
    data['images'][0]['id'] = '../../x'
    dup = data['annotations'][1]['id']
    data['annotations'][4]['id'] = dup
    data['annotations'][5]['point_labels'] = [0]
    data['annotations'][6]['difficult'] = 'yes'
    path = _write(tmp_path, data)
    with pytest.raises(ValueError) as excinfo:
        load_point_labels(path)
    text = str(excinfo.value)
    assert f"{path}: image #0 ('305.jpg'): id must be an integer, got '../../x'" in text
    assert f'{path}: annotation id {dup} appears 2 times (ids must be unique)' in text
    a5, a6 = data['annotations'][5], data['annotations'][6]
    assert f'annotation id {a5["id"]} (image id {a5["image_id"]}): no positive point' in text
    fault = '"difficult" must be 0 or 1, got \'yes\''
    assert f'annotation id {a6["id"]} (image id {a6["image_id"]}): {fault}' in text
    # the annotations of the image whose id is no integer point at no image
    assert 'image_id 304 is not the id of an image of the file' in text
    with pytest.raises(ValueError, match='appears 2 times'):
        PointLabelDataset(ann_file=path, lazy_init=False)


def test_difficult_flag_reaches_the_instances(points, tmp_path):
    data = json.loads(json.dumps(points))
    data['annotations'][0]['difficult'] = 1
    data['annotations'][1]['difficult'] = 0
    ds = PointLabelDataset(ann_file=_write(tmp_path, data), data_prefix=dict(img=DATA))
    instances = [i for k in range(len(ds)) for i in ds.get_data_info(k)['instances']]
    flags = {i['ann_id']: i.get('difficult') for i in instances}
    assert flags[data['annotations'][0]['id']] == 1 and flags[data['annotations'][1]['id']] == 0
    assert flags[data['annotations'][2]['id']] is None  # no flag in the file: none invented


def test_sampler_warns_only_when_it_skipped_something(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(
        point_labels, 'print_log', lambda msg, logger=None, level=None: logged.append(msg)
    )
    summary = sample_point_labels(GT_JSON, str(tmp_path / 'a.json'), seed=0)
    assert summary['skipped'] == {} and logged == []  # it said skipped {'empty mask': 0}
    with open(GT_JSON) as f:
        gt = json.load(f)
    gt['annotations'][0]['iscrowd'] = 1
    bad = tmp_path / 'crowd.json'
    bad.write_text(json.dumps(gt))
    summary = sample_point_labels(str(bad), str(tmp_path / 'b.json'), seed=0)
    assert summary['skipped'] == {'crowd': 1}
    assert logged == [f"sample_point_labels: skipped {{'crowd': 1}} annotations of {bad}"]
