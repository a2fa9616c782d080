"""DOTA labelTxt: the difficult flag travels from labelTxt to the point json to the pseudo labels;
the ground-truth converter feeds gt_rboxes and rbox_quality with the same ids; malformed folders
are reported whole (#25). Real NWPU images and objects written as DOTA labels."""

import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmpointsam.apis import gt_rboxes, point2rbox
from mmpointsam.datasets.dota_labels import dota_to_gt_json
from mmpointsam.datasets.dota_points import dota_to_point_labels
from mmpointsam.evaluation.functional import rbox_label_quality
from mmpointsam.fileio import load_dota_txt

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
IMAGES = osp.join(DATA, 'images')
# the config used here, named once (the configs/<method>/ move renames it here only)
DIRECT_CONFIG = osp.join(REPO, 'configs', 'sam_direct', 'sam-direct_mobilesam-vit-t_nwpu.py')
STEMS = ('018', '268')


def write_label_txt(out_dir) -> tuple:
    """labelTxt of two val images (DOTA header lines, min-area quadrilaterals); every third
    object difficult. Returns (classes, {(stem, k): difficult})."""
    with open(osp.join(DATA, 'annotations', 'val.json')) as f:
        coco = json.load(f)
    cats = sorted(coco['categories'], key=lambda c: c['id'])
    names = {c['id']: c['name'] for c in cats}
    flags = {}
    out_dir.mkdir()
    for img in coco['images']:
        stem = osp.splitext(img['file_name'])[0]
        if stem not in STEMS:
            continue
        lines = ['imagesource:NWPU-VHR-10', 'gsd:null']
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        for k, ann in enumerate(anns):
            pts = np.asarray(ann['segmentation'][0], np.float32).reshape(-1, 2)
            quad = cv2.boxPoints(cv2.minAreaRect(pts)).reshape(-1)
            flags[(stem, k)] = int(k % 3 == 2)
            lines.append(
                ' '.join(f'{v:.1f}' for v in quad)
                + f' {names[ann["category_id"]]} {flags[(stem, k)]}'
            )
        (out_dir / f'{stem}.txt').write_text('\n'.join(lines) + '\n')
    return tuple(c['name'] for c in cats), flags


@pytest.fixture(scope='module')
def dota(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('dota')
    classes, flags = write_label_txt(tmp / 'labelTxt')
    return tmp, classes, flags


def test_difficult_travels_from_label_txt_to_points_to_pseudo_labels(dota):
    tmp, classes, flags = dota
    points = dota_to_point_labels(
        str(tmp / 'labelTxt'), IMAGES, str(tmp / 'points.json'), classes=classes
    )
    with open(points['json']) as f:
        data = json.load(f)
    expected = [flags[(s, k)] for s in STEMS for k in range(sum(1 for x in flags if x[0] == s))]
    assert [a['difficult'] for a in data['annotations']] == expected
    assert 0 < sum(expected) < len(expected)

    cfg = Config.fromfile(DIRECT_CONFIG)
    cfg.model.sam.update(arch='tiny', img_size=256)
    cfg.model.data_preprocessor.img_size = 256
    out = tmp / 'pseudo'
    summary = point2rbox(
        cfg, points['json'], IMAGES, str(out), sam_checkpoint='none', progress=False
    )
    with open(summary['json']) as f:
        labels = json.load(f)
    by_id = {a['id']: a['difficult'] for a in data['annotations']}
    assert labels['annotations'], 'random weights gave no box at all'
    assert all(a['difficult'] == by_id[a['id']] for a in labels['annotations'])
    for img in labels['images']:
        stem = osp.splitext(img['file_name'])[0]
        _, _, diffs = load_dota_txt(osp.join(summary['dota_dir'], f'{stem}.txt'))
        mine = [a['difficult'] for a in labels['annotations'] if a['image_id'] == img['id']]
        assert diffs.tolist() == mine  # the DOTA lines say it too (they said 0 for all)
    assert any(a['difficult'] for a in labels['annotations'])


def test_skipping_difficult_objects_keeps_the_others_ids(dota, tmp_path):
    tmp, classes, _ = dota
    all_ = dota_to_point_labels(
        str(tmp / 'labelTxt'), IMAGES, str(tmp_path / 'a.json'), classes=classes
    )
    easy = dota_to_point_labels(
        str(tmp / 'labelTxt'),
        IMAGES,
        str(tmp_path / 'e.json'),
        classes=classes,
        skip_difficult=True,
    )
    with open(all_['json']) as f:
        everything = {a['id']: a for a in json.load(f)['annotations']}
    with open(easy['json']) as f:
        kept = json.load(f)['annotations']
    assert len(kept) < len(everything) and not any(a['difficult'] for a in kept)
    assert all(everything[a['id']]['category_id'] == a['category_id'] for a in kept)


def test_ground_truth_json_feeds_gt_rboxes_and_rbox_quality(dota, tmp_path):
    tmp, classes, flags = dota
    gt = dota_to_gt_json(str(tmp / 'labelTxt'), IMAGES, str(tmp_path / 'gt.json'), classes=classes)
    assert gt['annotations'] == len(flags) and gt['difficult'] == sum(flags.values())
    with open(gt['json']) as f:
        data = json.load(f)
    assert [i['file_name'] for i in data['images']] == ['018.jpg', '268.jpg']
    assert (data['images'][0]['width'], data['images'][0]['height']) == (533, 637)
    ann = data['annotations'][0]
    assert len(ann['segmentation'][0]) == 8 and ann['iscrowd'] == 0
    rboxes = gt_rboxes(gt['json'], str(tmp_path / 'gt_rbox'), source='polygon', progress=False)
    with open(rboxes['json']) as f:
        rbox_anns = json.load(f)['annotations']
    assert [a['difficult'] for a in rbox_anns] == [a['difficult'] for a in data['annotations']]
    _, _, diffs = load_dota_txt(osp.join(rboxes['dota_dir'], '018.txt'))
    assert diffs.tolist() == [a['difficult'] for a in data['annotations'] if a['image_id'] == 1]
    # the GT against itself: paired by annotation id, every box IoU 1
    result = rbox_label_quality(rboxes['json'], rboxes['json'])
    assert result['pairing'] == 'annotation id' and result['num_images'] == 2
    assert result['rows'][-1]['mIoU'] == pytest.approx(1.0)
    # point labels of the same folder share the ids (pseudo labels pair with their objects)
    points = dota_to_point_labels(
        str(tmp / 'labelTxt'), IMAGES, str(tmp_path / 'p.json'), classes=classes
    )
    with open(points['json']) as f:
        point_ids = [a['id'] for a in json.load(f)['annotations']]
    assert point_ids == [a['id'] for a in data['annotations']]


def test_malformed_label_folder_is_reported_whole(dota, tmp_path):
    _, classes, _ = dota
    labels = tmp_path / 'labelTxt'
    labels.mkdir()
    (labels / '018.txt').write_text(
        'imagesource:x\n1 2 3 4 5 6 7 8 ship 0\n1 2 3 4 5 6 7 ship\n1 2 3 4 5 6 7 x ship 0\n'
    )
    (labels / '036.txt').write_text('1 2 3 4 5 6 7 8 spaceship 0\n1 2 3 4 5 6 7 8 ship one\n')
    (labels / 'gone.txt').write_text('')
    out = tmp_path / 'points.json'
    with pytest.raises(ValueError) as excinfo:
        dota_to_point_labels(str(labels), IMAGES, str(out), classes=classes)
    text = str(excinfo.value)
    assert text.startswith('4 faults in the inputs:')
    assert f'{labels}/018.txt: line 3: expected "x1 y1 ... x4 y4 class [difficulty]"' in text
    assert f"{labels}/018.txt: line 4: coordinates must be numbers, got '1 2 3 4 5 6 7 x'" in text
    assert f"{labels}/036.txt: line 2: difficulty must be an integer, got 'one'" in text
    assert f'{labels}/gone.txt: no image gone.<png|jpg|jpeg|tif|tiff|bmp> in {IMAGES}' in text
    assert not out.exists()
