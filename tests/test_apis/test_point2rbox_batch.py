"""Batched encoding, DataLoader decoding, the work plan and claims inside ``convert``."""

import importlib
import importlib.util
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from test_point2rbox import GT_JSON, IMAGES, tiny_cfg

from mmpointsam.apis import Point2RBoxConverter
from mmpointsam.apis.work_plan import image_weight, lpt_plan
from mmpointsam.datasets import sample_point_labels
from mmpointsam.fileio import WorkClaims, load_rbox_coco

# the module (mmpointsam.apis.point2rbox is also the name of its one-call function)
p2r = importlib.import_module('mmpointsam.apis.point2rbox')


@pytest.fixture(scope='module')
def points(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('points') / 'points.json')
    sample_point_labels(GT_JSON, path, num_points=1, num_neg_points=0, seed=5)
    return path


@pytest.fixture(scope='module')
def converter():
    return Point2RBoxConverter.from_config(tiny_cfg(), sam_checkpoint='none')


def _files(out):
    """Every output file (labels.json and the DOTA txts) as bytes."""
    names = ['labels.json'] + [
        f'annfiles/{n}' for n in sorted(os.listdir(osp.join(out, 'annfiles')))
    ]
    return {n: open(osp.join(out, n), 'rb').read() for n in names}


def test_batched_encoder_matches_one_image_at_a_time(converter, points):
    dataset = converter.build_dataset(points, IMAGES)
    datas = [dataset[i] for i in range(3)]
    batched, samples, _ = converter.encode_batch(datas)
    assert batched.shape[0] == 3 and len(samples) == 3
    for i, data in enumerate(datas):
        single, _, _ = converter.encode_batch([data])
        torch.testing.assert_close(batched[i : i + 1], single, atol=1e-4, rtol=1e-4)


def test_batch_and_workers_give_the_labels_of_batch_one(converter, points, tmp_path):
    ref = converter.convert(points, IMAGES, str(tmp_path / 'b1'), progress=False)
    out = converter.convert(
        points, IMAGES, str(tmp_path / 'b3'), progress=False, batch_size=3, num_workers=2
    )
    assert out['converted'] == ref['converted'] == 4
    assert out['patches'] == ref['patches'] and out['boxes_total'] == ref['boxes_total']
    a, b = load_rbox_coco(ref['json']), load_rbox_coco(out['json'])
    for img_id, boxes in a['boxes'].items():
        assert boxes['ids'].tolist() == b['boxes'][img_id]['ids'].tolist()
        np.testing.assert_allclose(boxes['rboxes'], b['boxes'][img_id]['rboxes'], atol=0.05)
    with pytest.raises(ValueError, match='batch_size'):
        converter.convert(points, IMAGES, str(tmp_path / 'b0'), progress=False, batch_size=0)


def test_a_rank_converts_its_lpt_share_first_then_the_others_light_ends(
    converter, points, tmp_path, monkeypatch
):
    """Rank 0 of 2, alone (the other never started): its share, then rank 1's images lightest
    first, each claimed when reached; rank 0 merges labels.json once all are done."""
    monkeypatch.setattr(p2r, 'get_dist_info', lambda: (0, 2))
    monkeypatch.setattr(p2r, 'barrier', lambda: None)
    dataset = converter.build_dataset(points, IMAGES)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    plan = lpt_plan({d['img_id']: image_weight(d, converter.patch) for d in infos}, 2)
    order = []
    s = converter.convert(
        points, IMAGES, str(tmp_path), progress=False, on_image=lambda img: order.append(img['id'])
    )
    assert order == plan[0] + plan[1][::-1] and len(plan[0]) and len(plan[1])
    assert s['converted'] == 4 and s['json'] is not None and s['world_size'] == 2
    claims = WorkClaims(osp.join(str(tmp_path), '.progress', 'claims'))
    assert not [f for f in os.listdir(claims.claim_dir) if f.endswith('.claim')]


def test_images_claimed_by_a_live_process_are_left_to_it(converter, points, tmp_path):
    out = str(tmp_path)
    dataset = converter.build_dataset(points, IMAGES)
    ids = [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))]
    claims = WorkClaims(osp.join(out, '.progress', 'claims'))
    # another run on this host (pid 1 runs for as long as the machine does)
    with open(claims.path(ids[1]), 'w') as f:
        json.dump(dict(host=socket.gethostname(), pid=1, start=None, time=time.time()), f)
    s = converter.convert(points, IMAGES, out, progress=False)
    assert s['converted'] == 3 and s['pending'] == 1 and s['json'] is None
    assert not osp.exists(osp.join(out, 'labels.json'))
    assert 'not done yet' in p2r.format_summary(s)
    # that run died: its claim is stale now and the next run completes the folder
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    with open(claims.path(ids[1]), 'w') as f:
        json.dump(dict(host=socket.gethostname(), pid=dead.pid, start='1', time=0), f)
    again = converter.convert(points, IMAGES, out, progress=False)
    assert again['converted'] == 1 and again['skipped'] == 3 and again['json'] is not None
    ref = converter.convert(points, IMAGES, str(tmp_path / 'ref'), progress=False)
    assert _files(out) == _files(osp.dirname(ref['json']))


def test_inferencer_many_images_in_batches_matches_one_call_per_image():
    from mmpointsam.apis import PointSAMInferencer

    torch.manual_seed(0)
    # 300 px windows: the 600-odd px NWPU images need several, batched across images
    inf = PointSAMInferencer(
        arch='tiny', img_size=256, device='cpu', window_size=300, window_overlap=60
    )
    names = sorted(n for n in os.listdir(IMAGES) if n.endswith('.jpg'))[:3]
    paths = [osp.join(IMAGES, n) for n in names]
    clicks = [[[40, 50], [250, 260], [500, 100]], [[10, 10]], [[5, 5]]]
    labels = [None, None, [0]]  # the last: a background click only, nothing to segment
    singles = [inf(p, c, labels=lb) for p, c, lb in zip(paths, clicks, labels)]
    many = inf.predict_many(paths, clicks, labels=labels, batch_size=3, num_workers=2)
    assert len(many) == 3 and len(singles[0].windows) > 1 and len(many[2]) == 0
    for one, batched in zip(singles, many):
        assert batched.windows.tolist() == one.windows.tolist()
        np.testing.assert_allclose(batched.scores, one.scores, atol=1e-4)
        np.testing.assert_array_equal(batched.valid, one.valid)
        np.testing.assert_allclose(batched.rboxes, one.rboxes, atol=0.05)
    with pytest.raises(ValueError, match='one points'):
        inf.predict_many(paths, clicks[:2])


def _test_tool():
    """tools/test.py as a module (for its loader settings)."""
    spec = importlib.util.spec_from_file_location(
        'test_tool', osp.join(p2r_repo(), 'tools', 'test.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def p2r_repo():
    """The repository root."""
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_point_prompt_evaluation_in_batches_gives_the_boxes_of_batch_one(points, tmp_path):
    """tools/test.py --batch-size 2: two images per forward (one encoder call), same boxes."""
    from mmengine.runner import Runner

    tool = _test_tool()
    labels = {}
    for batch in (1, 2):
        cfg = tiny_cfg('configs/point2rbox/point2rbox_mobilesam-vit-t_nwpu.py')
        cfg.work_dir = str(tmp_path / f'work{batch}')
        cfg.randomness = dict(seed=0)  # the same random weights in both runs
        cfg.test_dataloader.dataset.update(
            data_root='', ann_file=points, data_prefix=dict(img=IMAGES + '/')
        )
        tool.set_test_loader(cfg, batch, 0)
        assert cfg.test_dataloader.batch_size == batch
        cfg.test_evaluator.out_dir = str(tmp_path / f'out{batch}')
        runner = Runner.from_cfg(cfg)
        runner.model.init_weights()
        runner.test()
        labels[batch] = load_rbox_coco(str(tmp_path / f'out{batch}' / 'labels.json'))
    for img_id, boxes in labels[1]['boxes'].items():
        assert boxes['ids'].tolist() == labels[2]['boxes'][img_id]['ids'].tolist()
        np.testing.assert_allclose(boxes['rboxes'], labels[2]['boxes'][img_id]['rboxes'], atol=0.05)
    with pytest.raises(ValueError, match='--batch-size'):
        tool.set_test_loader(cfg, 0, None)


def test_npc_on_a_batch_gives_each_image_its_own_answer(converter, points):
    """NPC's re-decoding pads each image's prompts to that image's width only (SAM attends to
    padding tokens): a batch of 2 equals each image alone."""
    model = converter.model
    dataset = converter.build_dataset(points, IMAGES)
    datas = [dataset[i] for i in range(2)]
    embeddings, samples, _ = converter.encode_batch(datas)
    with torch.no_grad():
        prompts = model.collect_prompts(samples)
        logits, iou, calibrated = model.decode_prompts(embeddings, prompts)
        assert calibrated.any()
        for i in range(2):
            alone, alone_iou, _ = model.decode_prompts(
                embeddings[i : i + 1], model.collect_prompts([samples[i]])
            )
            rows = prompts.batch_idx == i
            torch.testing.assert_close(logits[rows], alone, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(iou[rows], alone_iou, atol=1e-5, rtol=1e-5)
