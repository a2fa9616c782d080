"""Point labels -> rotated boxes: converter outputs, resume, interruption, tools/test.py path."""

import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmpointsam.apis import Point2RBoxConverter
from mmpointsam.datasets import PointLabelDataset, sample_point_labels
from mmpointsam.datasets.point_labels import coco_ann_to_mask
from mmpointsam.fileio import load_dota_txt, load_rbox_coco
from mmpointsam.structures import rbox_iou

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
GT_JSON = osp.join(DATA, 'annotations', 'val.json')
IMAGES = osp.join(DATA, 'images')


def tiny_cfg(config='configs/sam_direct/sam-direct_sam-vit-b_nwpu.py') -> Config:
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.model.sam.update(arch='tiny', img_size=256, init_cfg=None)
    cfg.model.data_preprocessor.img_size = 256
    return cfg


@pytest.fixture(scope='module')
def points(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('points') / 'points.json')
    sample_point_labels(GT_JSON, path, num_points=2, num_neg_points=1, seed=3)
    return path


@pytest.fixture(scope='module')
def converter():
    return Point2RBoxConverter.from_config(tiny_cfg(), sam_checkpoint='none')


def test_sampled_points_are_seeded_inside_their_masks_and_keep_ids(points, tmp_path):
    again = str(tmp_path / 'again.json')
    sample_point_labels(GT_JSON, again, num_points=2, num_neg_points=1, seed=3)
    with open(points) as f, open(again) as g:
        data = json.load(f)
        assert data['annotations'] == json.load(g)['annotations']
    with open(GT_JSON) as f:
        gt = json.load(f)
    gt_anns = {a['id']: a for a in gt['annotations']}
    images = {i['id']: i for i in gt['images']}
    assert sorted(a['id'] for a in data['annotations']) == sorted(gt_anns)
    for ann in data['annotations']:
        gt_ann = gt_anns[ann['id']]
        assert ann['category_id'] == gt_ann['category_id'] and ann['point_labels'] == [1, 1, 0]
        img = images[ann['image_id']]
        mask = coco_ann_to_mask(gt_ann, img['height'], img['width'])
        inside = [bool(mask[int(y), int(x)]) for x, y in ann['points']]
        assert inside == [True, True, False]


def test_point_label_dataset_reads_classes_and_prompts(points):
    with DefaultScope.overwrite_default_scope('mmpointsam'):
        dataset = PointLabelDataset(
            ann_file=points,
            data_prefix=dict(img=IMAGES + '/'),
            pipeline=[dict(type='LoadPointLabels')],
            test_mode=True,
        )
    assert dataset.metainfo['classes'][0] == 'airplane'
    assert dataset.metainfo['categories'][9] == dict(id=10, name='vehicle')
    sample = dataset[0]
    assert sample['gt_points'].shape[1:] == (3, 2)
    assert sample['gt_point_labels'][0].tolist() == [1, 1, 0]
    assert len(sample['instance_ids']) == len(sample['gt_bboxes_labels']) > 0


def test_bad_point_labels_name_file_and_annotation(tmp_path, points):
    with open(points) as f:
        data = json.load(f)
    data['annotations'][0]['point_labels'] = [0, 0, 0]
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r'bad.json: annotation id \d+ .*no positive point'):
        PointLabelDataset(ann_file=str(bad), test_mode=True)


def test_convert_writes_both_formats_with_classes_ids_and_scores(converter, points, tmp_path):
    summary = converter.convert(points, IMAGES, str(tmp_path), progress=False)
    assert summary['converted'] == summary['images'] == 4 and summary['skipped'] == 0
    with open(points) as f:
        point_anns = {a['id']: a for a in json.load(f)['annotations']}
    labels = load_rbox_coco(summary['json'])
    ids = np.concatenate([b['ids'] for b in labels['boxes'].values()])
    assert summary['boxes_total'] + summary['empty_total'] == len(point_anns)
    for box in labels['boxes'].values():
        for cat, ann_id, score in zip(box['category_ids'], box['ids'], box['scores']):
            assert point_anns[ann_id]['category_id'] == cat  # class kept from the point
            assert np.isfinite(score)
    assert len(set(ids.tolist())) == len(ids)
    txts = sorted(os.listdir(summary['dota_dir']))
    assert txts == ['018.txt', '189.txt', '268.txt', '305.txt']
    corners, names, _ = load_dota_txt(osp.join(summary['dota_dir'], '305.txt'))
    cat_names = {c['id']: c['name'] for c in labels['categories']}
    assert names == [cat_names[c] for c in labels['boxes'][304]['category_ids']]
    with open(summary['json']) as f:
        segs = [a['segmentation'][0] for a in json.load(f)['annotations'] if a['image_id'] == 304]
    assert np.allclose(corners.reshape(-1, 8), segs)
    info = json.load(open(summary['json']))['info']
    assert 'RANDOM' in info['settings']['weights'] and info['num_boxes'] == summary['boxes_total']


def test_empty_masks_are_counted_not_dropped_silently(converter, points, tmp_path, monkeypatch):
    decode = converter.model.sam.decode

    def decode_first_empty(*args, **kwargs):
        logits, iou = decode(*args, **kwargs)
        return logits.index_fill(0, torch.tensor([0]), -10.0), iou

    monkeypatch.setattr(converter.model.sam, 'decode', decode_first_empty)
    summary = converter.convert(points, IMAGES, str(tmp_path), progress=False)
    assert summary['empty_total'] >= 4  # the first instance of every image
    info = json.load(open(summary['json']))['info']
    assert info['num_empty'] == summary['empty_total'] == len(info['empty_instances'])
    assert sum(summary['empty_per_class'].values()) == summary['empty_total']


def test_resume_skips_done_images_and_interruption_leaves_no_json(
    converter, points, tmp_path, monkeypatch
):
    reference = converter.convert(points, IMAGES, str(tmp_path / 'ref'), progress=False)
    out = str(tmp_path / 'run')
    decode = Point2RBoxConverter.decode_one
    calls = []

    def decode_then_crash(self, embeddings, sample):
        if len(calls) == 2:
            raise KeyboardInterrupt('simulated interruption')
        calls.append(1)
        return decode(self, embeddings, sample)

    monkeypatch.setattr(Point2RBoxConverter, 'decode_one', decode_then_crash)
    with pytest.raises(KeyboardInterrupt):
        converter.convert(points, IMAGES, out, progress=False)
    monkeypatch.undo()
    assert not osp.exists(osp.join(out, 'labels.json'))  # nothing that looks complete
    # the interrupted image's claim was dropped: a rerun need not wait for it to go stale
    assert not os.listdir(osp.join(out, '.progress', 'claims'))
    assert len(os.listdir(osp.join(out, 'annfiles'))) == 2
    assert not [f for _, _, files in os.walk(out) for f in files if f.endswith('.tmp')]

    resumed = converter.convert(points, IMAGES, out, progress=False)
    assert (resumed['converted'], resumed['skipped']) == (2, 2)
    ref, got = load_rbox_coco(reference['json']), load_rbox_coco(resumed['json'])
    for img_id, box in ref['boxes'].items():
        assert got['boxes'][img_id]['ids'].tolist() == box['ids'].tolist()
        if len(box['rboxes']):
            assert np.all(
                rbox_iou(got['boxes'][img_id]['rboxes'], box['rboxes'], aligned=True) > 0.999
            )
    again = converter.convert(points, IMAGES, out, progress=False)
    assert (again['converted'], again['skipped']) == (0, 4)

    other = Point2RBoxConverter.from_config(tiny_cfg(), sam_checkpoint='none', method='all')
    with pytest.raises(ValueError, match='other settings'):
        other.convert(points, IMAGES, out, progress=False)


def test_test_loop_dumps_rotated_boxes(points, tmp_path):
    """tools/test.py route: PointLabelDataset + PointSAM (+NPC) + RBoxDumpMetric."""
    cfg = tiny_cfg('configs/point2rbox/point2rbox_mobilesam-vit-t_nwpu.py')
    cfg.work_dir = str(tmp_path / 'work')
    loader = cfg.test_dataloader
    loader.num_workers, loader.persistent_workers = 0, False
    loader.dataset.update(data_root='', ann_file=points, data_prefix=dict(img=IMAGES + '/'))
    cfg.test_evaluator.out_dir = str(tmp_path / 'out')
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    metrics = runner.test()
    assert metrics['rbox/num_boxes'] + metrics['rbox/num_empty'] == 21
    labels = load_rbox_coco(str(tmp_path / 'out' / 'labels.json'))
    with open(points) as f:
        point_ids = sorted(a['id'] for a in json.load(f)['annotations'])
    ids = sorted(i for b in labels['boxes'].values() for i in b['ids'].tolist())
    empty = json.load(open(tmp_path / 'out' / 'labels.json'))['info']['empty_instances']
    assert sorted(ids + [e['id'] for e in empty]) == point_ids
    assert len(os.listdir(tmp_path / 'out' / 'annfiles')) == 4


@pytest.mark.parametrize('low_score', ['flag', 'skip'])
def test_mask_selection_counts_wins_per_class_and_flags(points, tmp_path, low_score):
    selector = dict(
        type='MaskSelector',
        min_score=2.0,
        low_score=low_score,  # flags every click
        scorers=[dict(type='PredictedIoUScorer'), dict(type='RectangularityScorer')],
    )
    conv = Point2RBoxConverter.from_config(
        tiny_cfg(), sam_checkpoint='none', mask_selector=selector
    )
    summary = conv.convert(points, IMAGES, str(tmp_path), progress=False)
    with open(points) as f:
        per_class = {}
        data = json.load(f)
        names = {c['id']: c['name'] for c in data['categories']}
        for a in data['annotations']:
            per_class[names[a['category_id']]] = per_class.get(names[a['category_id']], 0) + 1
    # every click's pick is counted under its class, and every click is flagged
    assert {k: sum(v) for k, v in summary['mask_wins'].items()} == per_class
    assert summary['flagged_per_class'] == per_class
    with open(summary['json']) as f:
        anns = json.load(f)['annotations']
    if low_score == 'skip':
        assert anns == [] and summary['boxes_total'] == 0
    else:
        assert anns and all(a['flagged'] for a in anns)
        assert len(anns) + summary['empty_total'] == sum(per_class.values())


def test_mask_selection_keeps_npcs_plain_answers_as_the_plain_path_does(points, tmp_path):
    """NPC's ``min_kept`` guard refuses calibrated answers that lose the plain mask; the path with
    a mask selector (three masks per click) refuses the same clicks as the single-mask path."""
    selector = dict(type='MaskSelector', scorers=[dict(type='PredictedIoUScorer')])
    single = Point2RBoxConverter.from_config(tiny_cfg(), sam_checkpoint='none')
    multi = Point2RBoxConverter.from_config(
        tiny_cfg(), sam_checkpoint='none', mask_selector=selector
    )
    unguarded = multi.convert(points, IMAGES, str(tmp_path / 'unguarded'), progress=False)
    for conv in (single, multi):
        conv.model.test_npc.min_kept = 1.0  # only a calibration that keeps every plain cell
    a = single.convert(points, IMAGES, str(tmp_path / 'single'), progress=False)
    b = multi.convert(points, IMAGES, str(tmp_path / 'multi'), progress=False)
    assert a['calibrated'] == b['calibrated'] < unguarded['calibrated']
