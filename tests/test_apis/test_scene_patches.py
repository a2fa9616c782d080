"""Large scenes in DOTA-style patches: the grid, one patch per click, boxes in the scene frame."""

import json
import os.path as osp

import numpy as np
import pytest
from conftest import REPO
from test_point2rbox import tiny_cfg

from mmpointsam.apis import Point2RBoxConverter
from mmpointsam.apis.scene_patches import assign_clicks, scene_windows, window_starts
from mmpointsam.datasets import sample_point_labels
from mmpointsam.testing import build_mosaic

SHARED_NWPU = osp.join(osp.dirname(REPO), 'shared', 'data', 'nwpu_vhr10')
NWPU_TRAIN = osp.join(SHARED_NWPU, 'annotations', 'NWPU_instances_train.json')
needs_nwpu = pytest.mark.skipif(
    not osp.isfile(NWPU_TRAIN), reason='real NWPU VHR-10 not at ../shared/data/nwpu_vhr10'
)


def test_grid_is_mmrotates_dota_split():
    # step 1024 - 200 = 824; the last window is moved flush with the edge
    assert window_starts(4000, 1024, 200) == [0, 824, 1648, 2472, 2976]
    assert window_starts(1024, 1024, 200) == [0] and window_starts(700, 1024, 200) == [0]
    assert window_starts(1100, 1024, 200) == [0, 76]
    windows = scene_windows(4000, 700)
    assert windows.shape == (5, 4) and windows[:, 3].tolist() == [700] * 5
    assert windows[-1].tolist() == [2976, 0, 4000, 700]
    with pytest.raises(ValueError, match='must exceed'):
        window_starts(100, 200, 200)


def test_each_click_goes_where_it_is_farthest_from_a_border():
    windows = scene_windows(4000, 4000)
    # (900, 500): 123.5 px from window 0's right edge, 76.5 from window 1's left edge
    # (930, 500): 93.5 from window 0's right edge, 106.5 from window 1's left edge
    assert assign_clicks([[900, 500], [930, 500], [3999, 3999], [0, 0]], windows).tolist() == [
        0,
        1,
        24,
        0,
    ]


@pytest.fixture(scope='module')
def mosaic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('mosaic')
    out = build_mosaic(
        NWPU_TRAIN, osp.join(SHARED_NWPU, 'images'), size=(4000, 4000), out_dir=str(tmp)
    )
    points = str(tmp / 'points.json')
    sample_point_labels(out['ann_file'], points, num_points=1, num_neg_points=0, seed=0)
    return out, points, str(tmp)


@needs_nwpu
@pytest.mark.parametrize('batch_size, workers', [(1, 0), (4, 2)])
def test_scene_clicks_decoded_once_in_bounded_patches_boxes_in_scene_frame(
    mosaic, tmp_path, monkeypatch, batch_size, workers
):
    """A stand-in for SAM answers each click with a 6 x 4 box at the click (patch frame): the
    written boxes must sit at the scene clicks, one per click, from patches of at most 1024 px;
    also with patches cut in 2 DataLoader workers and encoded 4 at a time."""
    out, points, img_dir = mosaic
    conv = Point2RBoxConverter.from_config(tiny_cfg(), sam_checkpoint='none')
    shapes = []

    def fake_decode(embedding, sample):
        shapes.append(tuple(sample.ori_shape[:2]))
        clicks = sample.gt_instances.points.numpy()[:, 0]
        num = len(clicks)
        rboxes = np.concatenate([clicks + 0.5, np.tile([6.0, 4.0, 0.0], (num, 1))], axis=1)
        return dict(
            rboxes=rboxes,
            valid=np.ones(num, bool),
            scores=np.ones(num),
            labels=sample.gt_instances.labels.numpy(),
            num_calibrated=0,
            decoder_time=0.0,
        )

    # the encoder is skipped; each unit's "decoding" answers from its packed sample
    monkeypatch.setattr(
        conv,
        'encode_batch',
        lambda datas: ([None] * len(datas), [d['data_samples'] for d in datas], 0.0),
    )
    monkeypatch.setattr(conv, 'decode_one', fake_decode)
    summary = conv.convert(
        points, img_dir, str(tmp_path), progress=False, batch_size=batch_size, num_workers=workers
    )
    with open(points) as f:
        clicks = {a['id']: a['points'][0] for a in json.load(f)['annotations']}
    assert summary['boxes_total'] == len(clicks) and summary['patches'] == len(shapes) > 4
    assert max(max(s) for s in shapes) <= 1024
    with open(summary['json']) as f:
        anns = json.load(f)['annotations']
    assert sorted(a['id'] for a in anns) == sorted(clicks)  # each click once
    for a in anns:
        corners = np.asarray(a['segmentation'][0]).reshape(4, 2)
        assert np.allclose(corners.mean(axis=0), np.asarray(clicks[a['id']]) + 0.5, atol=1e-3)


@needs_nwpu
def test_tiny_sam_converts_the_4000px_mosaic(mosaic, tmp_path):
    """The real path (random tiny SAM): every click has a box or is counted empty, in the
    scene's bounds, and the run used several patches."""
    _, points, img_dir = mosaic
    cfg = tiny_cfg()
    conv = Point2RBoxConverter.from_config(cfg, sam_checkpoint='none')
    summary = conv.convert(points, img_dir, str(tmp_path), progress=False)
    with open(points) as f:
        num = len(json.load(f)['annotations'])
    assert summary['boxes_total'] + summary['empty_total'] == num
    assert summary['patches'] > 4
    with open(summary['json']) as f:
        anns = json.load(f)['annotations']
    centres = np.array([np.asarray(a['segmentation'][0]).reshape(4, 2).mean(0) for a in anns])
    assert ((centres >= -1) & (centres <= 4001)).all()
