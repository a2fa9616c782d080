"""Click sources (CSV, COCO keypoints) -> point-label json, read back by PointLabelDataset."""

import importlib.util
import json
import os.path as osp

import pytest
from conftest import NWPU, REPO

from mmpointsam.datasets import PointLabelDataset
from mmpointsam.datasets.click_sources import coco_keypoints_to_point_labels, csv_to_point_labels

IMAGES = osp.join(NWPU, 'images')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'clicks_to_point_labels',
        osp.join(REPO, 'tools', 'dataset_converters', 'clicks_to_point_labels.py'),
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_csv_clicks_become_point_labels(tmp_path):
    csv = tmp_path / 'clicks.csv'
    csv.write_text(
        'image,x,y,class,object\n'
        '414.jpg,100,200,ship,a\n'
        '414.jpg,104,203,ship,a\n'  # a second click on object a
        '414.jpg,300,50,vehicle,\n'
        '140.jpg,10.5,20,vehicle,\n'
        '140.jpg,5,5,background,\n'
    )
    out = tmp_path / 'points.json'
    summary = _tool().main([str(csv), str(out), '--img-dir', IMAGES])
    assert summary['num_images'] == 2 and summary['num_instances'] == 3
    data = json.loads(out.read_text())
    assert [c['name'] for c in data['categories']] == ['ship', 'vehicle']
    img414 = next(i for i in data['images'] if i['file_name'] == '414.jpg')
    assert (img414['width'], img414['height']) == (618, 529)  # read from the image
    img140 = next(i for i in data['images'] if i['file_name'] == '140.jpg')
    assert img140['background_points'] == [[5.0, 5.0]]
    ann_a = data['annotations'][0]
    assert ann_a['points'] == [[100.0, 200.0], [104.0, 203.0]] and ann_a['category_id'] == 1
    assert all('segmentation' not in a and 'bbox' not in a for a in data['annotations'])
    ds = PointLabelDataset(
        ann_file=str(out),
        data_prefix=dict(img=IMAGES),
        forbidden_keys=('segmentation', 'bbox', 'area'),
    )
    assert len(ds) == 2 and ds.metainfo['classes'] == ('ship', 'vehicle')


@pytest.mark.parametrize(
    'rows,match',
    [
        ('image,x,y\n414.jpg,1,2\n', r'header must have image,x,y,class.*missing \[\'class\'\]'),
        ('image,x,y,class\n414.jpg,1000,2,ship\n', r'line 2: click \(1000.0, 2.0\) is outside'),
        ('image,x,y,class\nnope.jpg,1,2,ship\n', r'line 2: image file not found: .*nope\.jpg'),
        ('image,x,y,class\n414.jpg,a,2,ship\n', r'line 2: x, y must be numbers'),
    ],
)
def test_csv_errors_name_the_line(tmp_path, rows, match):
    csv = tmp_path / 'bad.csv'
    csv.write_text(rows)
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        csv_to_point_labels(str(csv), IMAGES, str(tmp_path / 'o.json'))


def test_coco_keypoints_become_point_labels(tmp_path):
    coco = dict(
        images=[dict(id=1, file_name='414.jpg', width=618, height=529)],
        categories=[dict(id=3, name='plane', keypoints=['nose', 'tail'])],
        annotations=[
            dict(
                id=10,
                image_id=1,
                category_id=3,
                keypoints=[50, 60, 2, 70, 80, 1],
                bbox=[40, 50, 40, 40],
                area=1600,
                segmentation=[[40, 50, 80, 50, 80, 90]],
            ),
            dict(id=11, image_id=1, category_id=3, keypoints=[0, 0, 0, 0, 0, 0]),  # unlabelled
        ],
    )
    src = tmp_path / 'kp.json'
    src.write_text(json.dumps(coco))
    out = tmp_path / 'points.json'
    summary = coco_keypoints_to_point_labels(str(src), str(out))
    assert summary['num_instances'] == 1 and summary['skipped_unlabelled'] == 1
    ann = json.loads(out.read_text())['annotations'][0]
    assert ann == dict(
        id=10, image_id=1, category_id=3, points=[[50.0, 60.0], [70.0, 80.0]], point_labels=[1, 1]
    )
    coco_keypoints_to_point_labels(str(src), str(out), keypoint='tail')
    assert json.loads(out.read_text())['annotations'][0]['points'] == [[70.0, 80.0]]
    with pytest.raises(ValueError, match=r"kp\.json annotation 10: keypoint 'wing'"):
        coco_keypoints_to_point_labels(str(src), str(out), keypoint='wing')


def test_spreadsheet_csv_utf8_with_bom_and_crlf_is_read(tmp_path):
    # weak case 6: "CSV UTF-8" from a spreadsheet: missing ['image'], got ['\ufeffimage', ...]
    csv = tmp_path / 'clicks.csv'
    csv.write_bytes(
        '\ufeffimage,x,y,class\r\n414.jpg,100,200,ship\r\n140.jpg,10,20,vehicle\r\n'.encode()
    )
    out = tmp_path / 'points.json'
    summary = csv_to_point_labels(str(csv), IMAGES, str(out))
    assert summary['num_images'] == 2 and summary['num_instances'] == 2
    data = json.loads(out.read_text())
    assert [a['points'] for a in data['annotations']] == [[[100.0, 200.0]], [[10.0, 20.0]]]
    assert [c['name'] for c in data['categories']] == ['ship', 'vehicle']


def test_csv_faults_are_all_reported_and_nothing_is_written(tmp_path):
    csv = tmp_path / 'bad.csv'
    csv.write_text(
        'image,x,y,class\n'
        '414.jpg,a,2,ship\n'  # line 2
        'nope.jpg,1,2,ship\n'  # line 3
        '414.jpg,1000,2,ship\n'  # line 4
        '414.jpg,1,2,plane\n'  # line 5: only ship is allowed below
    )
    out = tmp_path / 'o.json'
    with pytest.raises(ValueError) as excinfo:
        csv_to_point_labels(str(csv), IMAGES, str(out), classes=['ship'])
    lines = str(excinfo.value).splitlines()
    assert lines[0] == '4 faults in the inputs:'
    assert lines[1] == f"  {csv}: line 2: x, y must be numbers, got 'a', '2'"
    assert lines[2] == f'  {csv}: line 3: image file not found: {IMAGES}/nope.jpg'
    assert lines[3].startswith(f'  {csv}: line 4: click (1000.0, 2.0) is outside the 618x529')
    assert lines[4] == f"  {csv}: line 5: class 'plane' is not one of ['ship']"
    assert not out.exists()


def test_semicolon_csv_is_named(tmp_path):
    csv = tmp_path / 'eu.csv'
    csv.write_text('image;x;y;class\n414.jpg;1;2;ship\n')
    with pytest.raises(ValueError, match='looks semicolon-separated'):
        csv_to_point_labels(str(csv), IMAGES, str(tmp_path / 'o.json'))
