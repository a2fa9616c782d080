"""tools/plot_logs.py, tools/vis_rboxes.py and tools/browse_dataset.py on recorded logs and the
repo's NWPU images."""

import importlib.util
import json
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data')
NWPU = osp.join(DATA, 'nwpu_vhr10')


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args):
    proc = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


# ---------------------------------------------------------------- plot_logs
def test_plot_recorded_logs_makes_png(tmp_path):
    tool = _tool('plot_logs')
    out = tmp_path / 'curves.png'
    logs = [
        osp.join(DATA, 'logs', 'supervised_scalars.json'),
        osp.join(DATA, 'logs', 'direct_test.json'),
    ]
    keys = tool.plot_logs(logs, ['loss', 'loss_*', 'sam/mIoU'], str(out), ['sup', 'direct'])
    assert keys == ['loss', 'loss_focal', 'loss_dice', 'loss_iou', 'sam/mIoU']
    img = mmcv.imread(str(out))
    assert img is not None and img.shape[0] > img.shape[1] > 100
    with pytest.raises(KeyError, match='nope'):
        tool.plot_logs(logs, ['nope'], str(tmp_path / 'x.png'))


def test_log_x_axis_is_training_iterations(tmp_path):
    tool = _tool('plot_logs')
    # epoch-based: validation "step" is the epoch, placed at the epoch's last iteration
    series = tool.load_log(osp.join(DATA, 'logs', 'supervised_scalars.json'))
    assert series['loss'][0] == [5, 10, 15, 20]
    assert series['sam/mIoU'][0] == [20]
    # iteration-based: validation "step" is already the iteration
    log = tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [
        dict(loss=1.0, iter=2, step=2),
        dict(loss=0.5, iter=4, step=4),
        {'sam/mIoU': 0.3, 'step': 4},
    ]
    log.write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    assert tool.resolve_log(str(tmp_path)) == str(log)
    assert tool.legend_name(str(log)) == tmp_path.name
    series = tool.load_log(str(log))
    assert series['sam/mIoU'] == ([4], [0.3])
    out = _run(
        'tools/plot_logs.py',
        str(tmp_path),
        osp.join(DATA, 'logs', 'supervised_scalars.json'),
        '--keys',
        'loss',
        '*mIoU',
        '--out',
        str(tmp_path / 'cli.png'),
    )
    assert 'sam/mIoU' in out and (tmp_path / 'cli.png').is_file()


# ---------------------------------------------------------------- vis_rboxes
def _pseudo_coco(tmp_path):
    """The converter's format: 4-corner polygons with scores (here: GT boxes, shifted)."""
    with open(osp.join(NWPU, 'annotations', 'val.json')) as f:
        coco = json.load(f)
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        ann['segmentation'] = [[x + 3, y, x + w + 3, y, x + w + 3, y + h, x + 3, y + h]]
        ann['score'] = 0.5
    path = tmp_path / 'pseudo.json'
    path.write_text(json.dumps(coco))
    return str(path)


def test_rbox_readers(tmp_path):
    tool = _tool('vis_rboxes')
    gt = tool.load_rboxes(osp.join(NWPU, 'annotations', 'val.json'))
    pseudo = tool.load_rboxes(_pseudo_coco(tmp_path))
    assert sorted(gt) == sorted(pseudo) == ['018', '189', '268', '305']
    assert gt['305'].scores is None and gt['305'].corners.shape == (len(gt['305'].names), 8)
    assert np.allclose(pseudo['305'].scores, 0.5)
    # a mask polygon becomes its minimum-area rectangle, a 4-corner polygon stays as it is
    square = tool.polygon_to_corners([0, 0, 10, 0, 10, 10, 5, 12, 0, 10], 'x')
    assert np.allclose(square.reshape(4, 2).min(0), [0, 0])
    assert np.allclose(square.reshape(4, 2).max(0), [10, 12])
    quad = [1, 2, 3, 4, 5, 6, 7, 8]
    assert tool.polygon_to_corners(quad, 'x').tolist() == quad
    dota = tmp_path / 'dota'
    dota.mkdir()
    (dota / '305.txt').write_text(
        'imagesource:GoogleEarth\ngsd:0.5\n10 10 100 10 100 50 10 50 ship 0\n'
    )
    boxes = tool.load_rboxes(str(dota))['305']
    assert boxes.names == ['ship'] and boxes.corners[0, 2] == 100
    (dota / 'bad.txt').write_text('1 2 3 4 5 6 7 x ship 0\n')
    with pytest.raises(ValueError, match='bad.txt:1'):
        tool.load_rboxes(str(dota))


def test_vis_rboxes_cli_side_by_side(tmp_path):
    out = tmp_path / 'out'
    _run(
        'tools/vis_rboxes.py',
        osp.join(NWPU, 'annotations', 'val.json'),
        _pseudo_coco(tmp_path),
        '--img-dir',
        osp.join(NWPU, 'images'),
        '--output-dir',
        str(out),
        '--max-images',
        '2',
    )
    files = sorted(p.name for p in out.iterdir())
    assert files == ['018.jpg', '189.jpg']
    h, w = mmcv.imread(osp.join(NWPU, 'images', '018.jpg')).shape[:2]
    assert mmcv.imread(str(out / '018.jpg')).shape == (h, 2 * w + 6, 3)


def test_vis_rboxes_names_bad_images_before_writing(tmp_path, monkeypatch):
    import shutil

    from mmpointsam.utils.input_checks import InputError

    images = tmp_path / 'images'
    shutil.copytree(osp.join(NWPU, 'images'), images)
    (images / '189.jpg').unlink()
    data = (images / '268.jpg').read_bytes()
    (images / '268.jpg').write_bytes(data[: len(data) // 2])
    out = tmp_path / 'out'
    tool = _tool('vis_rboxes')
    gt = osp.join(NWPU, 'annotations', 'val.json')
    argv = ['vis_rboxes.py', gt, _pseudo_coco(tmp_path), '--img-dir', str(images)]
    monkeypatch.setattr(sys, 'argv', argv + ['--output-dir', str(out)])
    with pytest.raises(InputError) as excinfo:
        tool.main()
    text = str(excinfo.value)
    assert text.startswith('2 faults in the inputs:')
    assert f'no image for "189" in {images}' in text
    assert f'{images}/268.jpg: truncated or corrupt JPEG image' in text
    assert not out.exists()  # the first pictures were written before the bad image stopped it


# ---------------------------------------------------------------- browse_dataset
def test_browse_dataset_shows_weak_and_strong_views(tmp_path):
    tool = _tool('browse_dataset')
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData

    from mmpointsam.visualization import SAMVisualizer

    h, w = 40, 50
    masks = np.zeros((1, h, w), np.uint8)
    masks[0, 10:30, 10:30] = 1
    sample = DetDataSample(metainfo=dict(img_path='a.jpg', flip=False))
    sample.gt_instances = InstanceData(
        masks=BitmapMasks(masks, h, w),
        labels=torch.tensor([0]),
        points=torch.tensor([[[20.0, 20.0]]]),
        point_labels=torch.tensor([[1]]),
    )
    image = torch.zeros(3, h, w, dtype=torch.uint8)
    vis = SAMVisualizer(name='vis_browse_test')
    one = tool.draw_item(vis, dict(inputs=image, data_samples=sample), ['plane'])
    two = tool.draw_item(
        vis, dict(inputs=dict(weak=image, strong=image + 50), data_samples=sample), ['plane']
    )
    assert one.shape == (h, w, 3) and two.shape == (h, 2 * w + vis.panel_gap, 3)


def test_browse_dataset_cli(tmp_path):
    out = tmp_path / 'browse'
    log = _run(
        'tools/browse_dataset.py',
        'configs/supervised/supervised_sam-vit-b-lora_10e_nwpu.py',
        '--output-dir',
        str(out),
        '--max-images',
        '2',
        '--num-points',
        '2',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={NWPU}/',
        'train_dataloader.dataset.ann_file=annotations/train.json',
    )
    assert '2 pictures' in log
    assert len(list(out.glob('*.jpg'))) == 2
