import json

import pytest

from mmpointsam.fileio import load_coco_json, load_rbox_coco


def test_reads_a_coco_json(tmp_path):
    data = dict(images=[dict(id=1)], annotations=[], categories=[dict(id=1, name='a')])
    path = tmp_path / 'x.json'
    path.write_text(json.dumps(data))
    assert load_coco_json(str(path)) == data


def test_missing_file_names_the_kind(tmp_path):
    with pytest.raises(FileNotFoundError, match='rotated-box json not found: .*nope.json'):
        load_rbox_coco(str(tmp_path / 'nope.json'))


def test_other_json_names_the_missing_key(tmp_path):
    path = tmp_path / 'x.json'
    path.write_text(json.dumps(dict(images=[], annotations=[])))
    with pytest.raises(ValueError, match=r'x.json: not a COCO json \(no "categories"\)'):
        load_coco_json(str(path), 'COCO keypoints json')
