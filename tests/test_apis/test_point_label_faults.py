"""Point labels: points outside their image are rejected on every path; subsets (#13)."""

import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmpointsam.apis import Point2RBoxConverter
from mmpointsam.datasets import sample_point_labels
from mmpointsam.datasets.point_labels import load_point_labels

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
GT_JSON = osp.join(DATA, 'annotations', 'val.json')
IMAGES = osp.join(DATA, 'images')


def tiny_cfg() -> Config:
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'sam_direct/sam-direct_sam-vit-b_nwpu.py'))
    cfg.model.sam.update(arch='tiny', img_size=256, init_cfg=None)
    cfg.model.data_preprocessor.img_size = 256
    return cfg


@pytest.fixture(scope='module')
def points(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('points') / 'points.json')
    sample_point_labels(GT_JSON, path, seed=0)
    return path


def _with_point(points, tmp_path, xy):
    with open(points) as f:
        data = json.load(f)
    ann = data['annotations'][0]
    ann['points'] = [xy]
    img = next(i for i in data['images'] if i['id'] == ann['image_id'])
    bad = str(tmp_path / 'bad.json')
    with open(bad, 'w') as f:
        json.dump(data, f)
    return bad, ann['id'], img


@pytest.mark.parametrize('xy', [[5000, 5000], [-1, 3], [3, -0.5]])
def test_point_outside_the_image_is_rejected_naming_file_annotation_and_point(points, tmp_path, xy):
    bad, ann_id, img = _with_point(points, tmp_path, xy)
    with pytest.raises(ValueError) as excinfo:
        load_point_labels(bad)
    msg = str(excinfo.value)
    assert bad in msg and f'annotation id {ann_id}' in msg and img['file_name'] in msg
    assert str(xy) in msg and f'{img["width"]}x{img["height"]}' in msg


def test_points_on_the_border_pixels_are_accepted(points, tmp_path):
    path, _, img = _with_point(points, tmp_path, [0, 0])
    load_point_labels(path)  # no error
    path, _, img = _with_point(points, tmp_path, [img['width'] - 1, img['height'] - 0.5])
    load_point_labels(path)  # no error


def test_converter_writes_no_box_for_a_point_outside(points, tmp_path):
    bad, ann_id, _ = _with_point(points, tmp_path, [5000, 5000])
    converter = Point2RBoxConverter.from_config(tiny_cfg(), sam_checkpoint='none')
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match=f'annotation id {ann_id}.*outside'):
        converter.convert(bad, IMAGES, str(out), progress=False)
    assert not (out / 'labels.json').exists()
    assert not (out / 'annfiles').exists() or not list((out / 'annfiles').iterdir())


# ---------------------------------------------------------------- subsets


def test_sample_point_labels_tool_subset(tmp_path):
    with open(GT_JSON) as f:
        ids = [img['id'] for img in json.load(f)['images']]
    out = tmp_path / 'subset.json'
    cmd = [
        sys.executable,
        'tools/dataset_converters/sample_point_labels.py',
        GT_JSON,
        str(out),
        '--img-ids',
        str(ids[2]),
        str(ids[0]),
        str(ids[3]),
        '--max-images',
        '2',
    ]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    data = json.load(open(out))
    assert [img['id'] for img in data['images']] == [ids[0], ids[2]]  # file order, first two
    assert {a['image_id'] for a in data['annotations']} == {ids[0], ids[2]}
    with pytest.raises(ValueError, match=r'image ids \[999999\] are not in the file'):
        sample_point_labels(GT_JSON, str(tmp_path / 'x.json'), img_ids=[999999])


def test_point2rbox_tool_subset(points, tmp_path):
    with open(points) as f:
        data = json.load(f)
    ids = [img['id'] for img in data['images']]
    out = tmp_path / 'out'
    cmd = [
        sys.executable,
        'tools/point2rbox.py',
        'configs/sam_direct/sam-direct_sam-vit-b_nwpu.py',
        points,
        IMAGES,
        str(out),
        '--sam-checkpoint',
        'none',
        '--img-ids',
        str(ids[1]),
        str(ids[3]),
        '--max-images',
        '1',
        '--cfg-options',
        'model.sam.arch=tiny',
        'model.sam.img_size=256',
        'model.data_preprocessor.img_size=256',
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    labels = json.load(open(out / 'labels.json'))
    assert [img['id'] for img in labels['images']] == [ids[1]]
    assert {a['image_id'] for a in labels['annotations']} == {ids[1]}
    assert len(list((out / 'annfiles').iterdir())) == 1
