"""The input checks on real NWPU files damaged the ways users' files are (#25): images (header,
end marker, size), checkpoints (empty, truncated, wrong kind, wrong arch), COCO / point-label
schemas, the fault report and --resume."""

import json
import os.path as osp
import shutil

import cv2
import pytest
import torch
from PIL import Image

from mmpointsam.models.sam import build_sam
from mmpointsam.utils.input_checks import (
    FaultReport,
    InputError,
    check_checkpoint,
    check_coco_json,
    image_fault,
    inspect_image,
    resume_checkpoint,
)

DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'nwpu_vhr10')
JPG = osp.join(DATA, 'images', '018.jpg')  # 533 x 637


def _cut(src, dst, keep):
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:keep])
    return str(dst)


# ---------------------------------------------------------------- images


def test_valid_images_pass_with_their_size():
    assert inspect_image(JPG) == (533, 637, None)
    assert image_fault(JPG, 533, 637) is None


@pytest.mark.parametrize('keep', [0.3, 0.9, -2])  # mid-scan, near the end, only EOI missing
def test_truncated_jpeg_is_named(tmp_path, keep):
    size = osp.getsize(JPG)
    bad = _cut(JPG, tmp_path / 'cut.jpg', int(size * keep) if keep > 0 else keep)
    # OpenCV (mmcv's loader) reads some of these silently, grey below the cut
    w, h, fault = inspect_image(bad)
    assert (w, h) == (533, 637)  # the header is intact
    assert fault.startswith('truncated or corrupt JPEG image (') and fault.endswith(bad)
    assert 'decoding fails: image file is truncated' in fault


def test_jpeg_with_trailing_bytes_after_its_end_is_accepted(tmp_path):
    path = tmp_path / 'trailer.jpg'
    shutil.copy(JPG, path)
    with open(path, 'ab') as f:
        f.write(b'\0' * 10000)  # the end marker is no longer in the last 4 KB: decoded to decide
    assert inspect_image(str(path)) == (533, 637, None)


def test_truncated_png_and_tiff_and_broken_headers(tmp_path):
    img = cv2.imread(JPG)
    png = str(tmp_path / 'a.png')
    cv2.imwrite(png, img)
    assert 'truncated or corrupt PNG image' in image_fault(
        _cut(png, tmp_path / 'cut.png', osp.getsize(png) // 2)
    )
    tif = str(tmp_path / 'a.tif')
    Image.open(JPG).save(tif)  # strips after the header: their offsets tell the truncation
    assert inspect_image(tif) == (533, 637, None)
    assert 'truncated or corrupt TIFF image' in image_fault(
        _cut(tif, tmp_path / 'cut.tif', osp.getsize(tif) // 2)
    )
    garbled = tmp_path / 'garbled.jpg'
    garbled.write_bytes(b'\0' * 64 + open(JPG, 'rb').read()[64:])
    assert image_fault(str(garbled)).startswith('unreadable image (corrupt or not an image')
    (tmp_path / 'empty.jpg').touch()
    assert image_fault(str(tmp_path / 'empty.jpg')).startswith('empty image file (0 bytes)')
    assert image_fault(str(tmp_path / 'nope.jpg')) == f'image file not found: {tmp_path}/nope.jpg'


def test_image_of_another_size_than_declared():
    assert image_fault(JPG, 1030, 610) == (
        f'the image is 533x637 (w x h) but its annotation declares 1030x610: {JPG}'
    )


# ---------------------------------------------------------------- checkpoints


@pytest.fixture(scope='module')
def tiny_state():
    return build_sam(dict(arch='tiny', img_size=128)).state_dict()


TINY_SAM = dict(type='SAM', arch='tiny', img_size=128)


def _check(path, role, sam_cfg=None):
    report = FaultReport()
    check_checkpoint(report, str(path), role, sam_cfg)
    return report.lines()


def test_readable_checkpoints_of_the_right_kind_pass(tmp_path, tiny_state):
    sam_file, train_file = tmp_path / 'sam.pth', tmp_path / 'epoch_1.pth'
    torch.save(tiny_state, sam_file)
    torch.save(dict(meta={}, state_dict={f'sam.{k}': v for k, v in tiny_state.items()}), train_file)
    assert _check(sam_file, 'sam', TINY_SAM) == []
    assert _check(train_file, 'model', TINY_SAM) == []
    assert _check(train_file, 'resume') == []


def test_empty_and_truncated_checkpoints_are_named(tmp_path, tiny_state):
    empty = tmp_path / 'empty.pth'
    empty.touch()
    assert _check(empty, 'model') == [
        f'{empty}: checkpoint: empty or truncated checkpoint (0 bytes)'
    ]
    full = tmp_path / 'sam.pth'
    torch.save(tiny_state, full)
    cut = _cut(full, tmp_path / 'cut.pth', osp.getsize(full) - 100)
    (line,) = _check(cut, 'sam')
    assert line.startswith(f'{cut}: SAM checkpoint: empty or truncated checkpoint (')
    legacy = tmp_path / 'legacy.pth'  # torch's pre-1.6 pickle format, not a zip
    torch.save(tiny_state, legacy, _use_new_zipfile_serialization=False)
    assert _check(legacy, 'sam', TINY_SAM) == []
    cut = _cut(legacy, tmp_path / 'legacy_cut.pth', osp.getsize(legacy) // 2)
    (line,) = _check(cut, 'sam')
    assert line.startswith(f'{cut}: SAM checkpoint: empty or truncated checkpoint (')


def test_checkpoint_of_the_wrong_kind_or_arch(tmp_path, tiny_state):
    sam_file, train_file = tmp_path / 'sam.pth', tmp_path / 'epoch_1.pth'
    torch.save(tiny_state, sam_file)
    torch.save(dict(meta={}, state_dict={f'sam.{k}': v for k, v in tiny_state.items()}), train_file)
    (line,) = _check(train_file, 'sam')
    assert 'a training checkpoint saved by tools/train.py' in line and '--checkpoint' in line
    (line,) = _check(sam_file, 'model')
    assert 'an official SAM/MobileSAM/SAM 2 file' in line and '--sam-checkpoint' in line
    # the same test the loader runs, on a meta-device SAM: the same message, nothing built
    (line,) = _check(sam_file, 'sam', dict(TINY_SAM, img_size=256))
    assert (
        "holds SAM arch='tiny' weights but the config builds SAM(arch='tiny', img_size=256)" in line
    )
    (line,) = _check(train_file, 'model', dict(type='SAM', arch='vit_b'))
    assert "holds SAM arch='tiny' weights but the config builds SAM(arch='vit_b'" in line
    torch.save(dict(prototypes=torch.zeros(3, 32)), tmp_path / 'protos.pth')
    assert _check(tmp_path / 'protos.pth', 'prototypes') == []
    (line,) = _check(sam_file, 'prototypes')
    assert 'not a target-prototype file' in line


def test_missing_sam_file_says_how_to_get_one(tmp_path):
    (line,) = _check(tmp_path / 'sam_vit_b_01ec64.pth', 'sam')
    assert line.endswith('or --sam-checkpoint none for random weights')


# ---------------------------------------------------------------- annotation files


def _coco(tmp_path, edit):
    with open(osp.join(DATA, 'annotations', 'val.json')) as f:
        data = json.load(f)
    edit(data)
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    return str(path)


def test_coco_schema_faults_are_all_reported(tmp_path):
    def edit(data):
        data['images'][0]['id'] = '304'  # a string id
        data['images'][1]['width'] = 0
        data['annotations'][1]['id'] = data['annotations'][0]['id']
        data['annotations'][2]['image_id'] = 999
        data['annotations'][3]['category_id'] = 42

    path = _coco(tmp_path, edit)
    report = FaultReport()
    check_coco_json(report, path, osp.join(DATA, 'images'))
    text = '\n'.join(report.lines())
    a = json.load(open(path))['annotations']
    assert f"{path}: image #0 ('305.jpg'): id must be an integer, got '304'" in text
    assert "image #1 ('268.jpg'): width and height must be positive whole numbers, got 0" in text
    assert f'{path}: annotation id {a[0]["id"]} appears 2 times (ids must be unique)' in text
    assert f'annotation id {a[2]["id"]} (#2): image_id 999 is not the id of an image' in text
    assert f'annotation id {a[3]["id"]} (#3): category_id 42 is not in "categories"' in text
    # annotations of image 304 now point at no image: each is reported, none is lost
    assert len(report) >= 5
    assert report.checked == {'COCO json': 1, 'image files': 4}


def test_coco_masks_and_classes_as_the_dataset_checks_them(tmp_path):
    def edit(data):
        data['annotations'][0]['segmentation'] = [[1, 2, 3]]
        data['annotations'][1]['bbox'] = [0, 0, 5000, 5]
        data['categories'][0]['name'] = 'spaceship'

    path = _coco(tmp_path, edit)
    report = FaultReport()
    classes = tuple(
        c['name'] for c in json.load(open(osp.join(DATA, 'annotations', 'val.json')))['categories']
    )
    check_coco_json(report, path, classes=classes, masks=True)
    text = '\n'.join(report.lines())
    assert 'broken polygon: odd number of coordinates (3)' in text
    assert 'bbox [0, 0, 5000, 5] (x, y, w, h) is outside the image' in text
    assert "annotations of categories ['spaceship'], which are not among the dataset's" in text


def test_report_limit_and_summary():
    report = FaultReport(limit=3)
    for i in range(5):
        report.add('f.json', f'fault {i}', f'record {i}')
    assert report.message().splitlines() == [
        '5 faults in the inputs:',
        '  f.json: record 0: fault 0',
        '  f.json: record 1: fault 1',
        '  f.json: record 2: fault 2',
        '  ... and 2 more',
    ]
    with pytest.raises(InputError, match='^5 faults'):
        report.raise_if_any()
    ok = FaultReport()
    ok.count('image files', 4)
    assert ok.summary() == 'inputs checked (4 image files): no fault'
    ok.raise_if_any()


# ---------------------------------------------------------------- --resume


def test_resume_needs_a_checkpoint_unless_auto(tmp_path):
    work = tmp_path / 'work'
    assert resume_checkpoint(None, str(work)) is None
    with pytest.raises(InputError, match='no checkpoint to resume from in the work dir'):
        resume_checkpoint('latest', str(work))
    assert resume_checkpoint('auto', str(work)) is None  # from scratch, as asked
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(work / 'epoch_3.pth'))
    with pytest.raises(InputError, match=r'last_checkpoint: names .*epoch_3\.pth, which does not'):
        resume_checkpoint('auto', str(work))
    (work / 'epoch_3.pth').write_bytes(b'x')
    assert resume_checkpoint('latest', str(work)) == str(work / 'epoch_3.pth')
    with pytest.raises(InputError, match='--resume nope.pth: checkpoint not found'):
        resume_checkpoint('nope.pth', str(work))
