"""Proxy domain-shift benchmark: the class split tool and a shortened run of the script."""

import json
import os.path as osp

import numpy as np
import pytest
from proxy_test_utils import NWPU, PROJECT, load_tool, quick_args

from mmpointsam.datasets.point_labels import coco_ann_to_mask

SOURCE_IDS = {1, 3, 4, 5, 6, 7}  # airplane, storage_tank, baseball_diamond, tennis_court, ...
TARGET_IDS = {2, 8, 9, 10}  # ship, harbor, bridge, vehicle


def _split(out_dir, seed=1, val_ratio=0.25, **kwargs):
    tool = load_tool('split_by_class')
    tool.split_by_class(
        osp.join(NWPU, 'annotations', 'train.json'),
        osp.join(NWPU, 'annotations', 'val.json'),
        str(out_dir),
        seed=seed,
        val_ratio=val_ratio,
        **kwargs,
    )
    files = {}
    for f in sorted(out_dir.glob('*.json')):
        files[f.name] = json.loads(f.read_text())
    return tool, files


def test_split_classes_images_and_points(tmp_path):
    tool, files = _split(tmp_path)
    train = json.load(open(osp.join(NWPU, 'annotations', 'train.json')))
    test = json.load(open(osp.join(NWPU, 'annotations', 'val.json')))
    train_names = {i['file_name'] for i in train['images']}
    test_names = {i['file_name'] for i in test['images']}
    for name, data in files.items():
        cats = {a['category_id'] for a in data['annotations']}
        assert cats <= (SOURCE_IDS if name.startswith('source') else TARGET_IDS), name
        assert len(data['categories']) == 10  # label indices stay NWPU's
        names = {i['file_name'] for i in data['images']}
        ids = {i['id'] for i in data['images']}
        assert {a['image_id'] for a in data['annotations']} == ids  # no empty images
        assert names <= (test_names if '_test' in name else train_names), name
    # the source test file holds every source instance of the test images
    assert len(files['source_test.json']['annotations']) == sum(
        a['category_id'] in SOURCE_IDS for a in test['annotations']
    )
    # validation is carved from the training images, disjoint from the training part
    for dom in ('source', 'target'):
        tr = {i['id'] for i in files[f'{dom}_train.json']['images']}
        va = {i['id'] for i in files[f'{dom}_val.json']['images']}
        assert not tr & va
    assert files['source_val.json']['images'] or files['target_val.json']['images']
    # point-label files: target instances only, points but no masks, boxes or areas
    masks = files['target_train.json']
    for k in (1, 3):
        pts = files[f'target_train_points_{k}pt.json']
        assert len(pts['annotations']) == len(masks['annotations']) > 0
        imgs = {i['id']: i for i in pts['images']}
        gt = {a['id']: a for a in masks['annotations']}
        for ann in pts['annotations']:
            assert set(ann) == {'id', 'image_id', 'category_id', 'points', 'point_labels'}
            assert ann['point_labels'] == [1] * k + [0] * k
            img = imgs[ann['image_id']]
            mask = coco_ann_to_mask(gt[ann['id']], img['height'], img['width'])
            inside = [bool(mask[y, x]) for x, y in ann['points']]
            assert inside == [True] * k + [False] * k


def test_split_is_reproducible_with_a_seed(tmp_path):
    _, first = _split(tmp_path / 'a', seed=4)
    _, again = _split(tmp_path / 'b', seed=4)
    _, other = _split(tmp_path / 'c', seed=5)
    assert first == again
    assert first['target_train_points_1pt.json'] != other['target_train_points_1pt.json']


def test_split_downscales_images_and_annotations(tmp_path):
    import cv2

    _, files = _split(tmp_path, image_dir=osp.join(NWPU, 'images'), max_side=128)
    for name in ('source_test.json', 'target_train.json'):
        for img in files[name]['images']:
            pixels = cv2.imread(str(tmp_path / 'images' / img['file_name']))
            assert max(img['width'], img['height']) == 128
            assert pixels.shape[:2] == (img['height'], img['width'])
        for ann in files[name]['annotations']:
            img = next(i for i in files[name]['images'] if i['id'] == ann['image_id'])
            xs = np.concatenate([p[0::2] for p in ann['segmentation']])
            assert xs.max() <= img['width'] + 1


def test_point_only_dataset_refuses_masks_and_flips_points(tmp_path):
    from mmengine.registry import init_default_scope

    from mmpointsam.datasets import NWPUVHR10Dataset, PointLabelDataset
    from mmpointsam.datasets.transforms import LoadPointLabels, RandomFlipPoints

    init_default_scope('mmpointsam')
    _split(tmp_path)
    with open(tmp_path / 'target_train_points_3pt.json') as f:
        masked = json.load(f)
    masked['annotations'][0]['segmentation'] = [[0, 0, 5, 0, 5, 5]]
    with open(tmp_path / 'masked.json', 'w') as f:
        json.dump(masked, f)
    with pytest.raises(ValueError, match='"segmentation", which this point-label dataset forbids'):
        PointLabelDataset(
            ann_file=str(tmp_path / 'masked.json'),
            data_root='',
            forbidden_keys=('segmentation', 'bbox', 'area'),
            lazy_init=False,
        )
    ds = PointLabelDataset(
        ann_file=str(tmp_path / 'target_train_points_3pt.json'),
        data_prefix=dict(img=osp.join(NWPU, 'images')),
        filter_empty=True,
        forbidden_keys=('segmentation', 'bbox', 'area'),
        pipeline=[dict(type='LoadPointLabels')],
        metainfo=dict(classes=NWPUVHR10Dataset.METAINFO['classes']),
    )
    info = ds[0]
    assert info['gt_points'].shape[1:] == (6, 2)
    assert set(info['gt_bboxes_labels'].tolist()) <= {1, 7, 8, 9}
    img = np.random.randint(0, 255, (5, 7, 3), np.uint8)
    pts = [[1, 2], [6, 4]]
    results = LoadPointLabels()(
        dict(
            img=img,
            img_shape=(5, 7),
            instances=[dict(points=pts, point_labels=[1, 1], bbox_label=0, ann_id=3)],
        )
    )
    out = RandomFlipPoints(prob=1.0, direction='diagonal')(results)
    for (x, y), (fx, fy) in zip(pts, out['gt_points'][0].astype(int)):
        assert (out['img'][fy, fx] == img[y, x]).all()


def test_quick_benchmark_prints_the_table(tmp_path, capsys):
    bench = load_tool('proxy_shift')
    work = tmp_path / 'bench'
    table = bench.main(
        [
            *quick_args(work),
            '--rows',
            'direct',
            'selftrain',
            'pointsam',
            'npc',
            'pbr',
            'npc_random',
            'resam',
            'supervised',
            '--num-points',
            '1',
        ]
    )
    out = capsys.readouterr().out
    assert table in out and '| Direct |' in table and '| PointSAM |' in table
    assert 'random weights' in table and 'Total wall time' in table
    results = json.load(open(work / 'results.json'))
    assert set(results['runs']) == {
        f'{r}|1|0'
        for r in (
            'Direct',
            'Self-training',
            'PointSAM',
            'Self-training+NPC',
            'Self-training+PBR',
            'Self-training+NPC (random)',
            'ReSAM',
            'Supervised (masks)',
        )
    }
    for metrics in results['runs'].values():
        assert 0.0 <= metrics['sam/mIoU'] <= 1.0 and metrics['time_s'] > 0
    assert 0.0 <= results['stage1']['source_test']['sam/mIoU'] <= 1.0
    assert (work / 'table.md').read_text().strip() == table
    assert osp.isfile(work / 'stage1_sam.pth')


def _fake_results(rows):
    runs = {}
    for row, k, values in rows:
        for seed, v in enumerate(values):
            runs[f'{row}|{k}|{seed}'] = {'sam/mIoU': v, 'sam/mF1': v, 'time_s': 10.0}
    return {'runs': runs, 'target': 'target_nwpu_vhr10.py'}


def test_table_spread_verdict_and_gap_share(tmp_path, capsys):
    bench = load_tool('proxy_shift')
    results = _fake_results(
        [
            ('Direct', 1, [0.20]),
            (
                'Self-training',
                1,
                [0.22, 0.24, 0.26],
            ),  # mean 0.24, std 0.02: +0.04 > 0.02, all above
            ('Self-training (bf16)', 1, [0.23, 0.23, 0.26]),  # mean 0.24: -> within the spread
            ('ReSAM', 1, [0.15, 0.21, 0.27]),  # mean 0.21, std 0.06: within spread
            ('PointSAM', 1, [0.10, 0.12, 0.14]),  # mean 0.12: below
            ('Supervised (masks)', 1, [0.40, 0.40, 0.40]),  # gap 0.20
        ]
    )
    (tmp_path / 'results.json').write_text(json.dumps(results))
    table = bench.main(
        ['--work-dir', str(tmp_path), '--table-only', '--num-points', '1', '--bf16-selftrain']
    )
    assert table in capsys.readouterr().out
    rows = {
        line.split(' | ')[0][2:]: line.split(' | ')
        for line in table.splitlines()
        if line.startswith('| ') and not line.startswith('| target')
    }
    assert rows['Self-training'][1] == '0.2400 +- 0.0200'
    assert rows['Self-training'][3] == '+0.0400 above' and rows['Self-training'][4] == '+20%'
    assert rows['ReSAM'][3] == '+0.0100 within spread' and rows['ReSAM'][4] == '+5%'
    assert rows['PointSAM'][3] == '-0.0800 below' and rows['PointSAM'][4] == '-40%'
    assert rows['Supervised (masks)'][4] == '+100%'
    assert rows['Direct'][1] == '0.2000' and rows['Direct'][3] == '-'
    assert (
        'bf16 - fp32 at 1 pt, same seeds: +0.0100, -0.0100, +0.0000; mean +0.0000 '
        'against a seed spread of 0.0200: within the spread.'
    ) in table


def test_verdict_needs_every_seed_on_one_side():
    bench = load_tool('proxy_shift')
    # mean 0.265: +0.065 above Direct, more than the std 0.0606, but one seed (0.195) is below
    stats = dict(values=[0.195, 0.30, 0.30], mean=0.265, std=0.0606)
    assert abs(bench._std(stats['values']) - 0.0606) < 1e-4
    assert bench.verdict(stats, 0.20) == 'within spread'
    assert bench.verdict(dict(values=[0.3], mean=0.3, std=0.0), 0.2) == 'one seed'


def _fake_hrsid_inshore(root):
    """An HRSID-layout dataset (one class, ship; grey images) made from the repo's NWPU images,
    with an extra test image whose one polygon has zero area, as HRSID's inshore image 166."""
    import shutil

    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'Annotations' / 'inshore').mkdir(parents=True)
    files = {}
    for split, src in (('train', 'train.json'), ('test', 'val.json')):
        coco = json.load(open(osp.join(NWPU, 'annotations', src)))
        for img in coco['images']:
            shutil.copy(osp.join(NWPU, 'images', img['file_name']), root / 'JPEGImages')
        for ann in coco['annotations']:
            ann['category_id'] = 1
        coco['categories'] = [dict(id=1, name='ship')]
        files[split] = coco
    bad = dict(files['test']['images'][0], id=9166)
    files['test']['images'].append(bad)
    files['test']['annotations'].append(
        dict(
            id=99166,
            image_id=9166,
            category_id=1,
            segmentation=[[5, 5, 5, 5, 5, 5]],
            area=0,
            bbox=[0, 0, 0, 0],
            iscrowd=0,
        )
    )
    left_out_train = files['train']['images'][0]['id']
    for split, coco in files.items():
        (root / 'Annotations' / 'inshore' / f'inshore_{split}.json').write_text(json.dumps(coco))
    return files, left_out_train


def test_sar_target_config_leaves_out_images(tmp_path):
    """--target-config with HRSID's inshore layout: dataset options reach the test set (the
    zero-area image is left out) and the point-label sampling (a left-out training image gets
    no points); the runs go through."""
    bench = load_tool('proxy_shift')
    files, left_out_train = _fake_hrsid_inshore(tmp_path / 'HRSID')
    repo_cfg = open(osp.join(PROJECT, 'configs', 'target_hrsid_inshore.py')).read()
    assert 'target_test_options = dict(exclude_img_ids=[166])' in repo_cfg
    cfg = tmp_path / 'target.py'
    cfg.write_text(
        repo_cfg.replace("'data/HRSID/'", repr(str(tmp_path / 'HRSID') + '/'))
        .replace('[351, 375, 376]', f'[{left_out_train}]')
        .replace('[166]', '[9166]')
    )
    work = tmp_path / 'bench'
    bench.main(
        [
            *quick_args(work),
            '--target-config',
            str(cfg),
            '--rows',
            'direct',
            'selftrain',
            'supervised',
            '--num-points',
            '1',
        ]
    )
    results = json.load(open(work / 'results.json'))
    assert set(results['runs']) == {'Direct|1|0', 'Self-training|1|0', 'Supervised (masks)|1|0'}
    n_test = len(files['test']['images']) - 1  # 9166 left out
    n_inst = len(files['test']['annotations']) - 1
    for metrics in results['runs'].values():
        assert metrics['sam/num_images'] == n_test and metrics['sam/num_instances'] == n_inst
    points = json.load(open(work / 'target_train_points_1pt.json'))
    assert left_out_train not in {i['id'] for i in points['images']}
    assert len(points['images']) == len(files['train']['images']) - 1


def test_diagnosis_scores_and_draws_pseudo_masks(tmp_path):
    """--diagnose: each self-training row again with prompts resampled from the target masks;
    the pseudo masks' IoU with them every iteration, and pictures with the ground truth."""
    import glob

    bench = load_tool('proxy_shift')
    work = tmp_path / 'bench'
    table = bench.main(
        [*quick_args(work), '--rows', 'direct', 'selftrain', '--num-points', '1', '--diagnose']
    )
    results = json.load(open(work / 'results.json'))
    assert set(results['diagnose']) == {'Self-training|1|0'}  # Direct does not train
    run = results['diagnose']['Self-training|1|0']
    series = run['history/pseudo_gt_iou']
    assert len(series) == 2 and all(0.0 <= v <= 1.0 for v in series)  # --quick: 2 iterations
    pictures = glob.glob(osp.join(run['work_dir'], '*', 'vis', 'train_iter_*', '*.jpg'))
    assert len(pictures) == 2  # train_interval 1 (2 iterations // 3, at least 1)
    assert '**Diagnosis**' in table and '| Self-training | 1 |' in table


def test_sar_like_is_grey_speckled_and_seeded():
    tool = load_tool('split_by_class')
    flat = np.full((64, 64, 3), 128, np.uint8)  # a flat optical image: speckle alone makes grey
    a = tool.sar_like(flat, 4, np.random.default_rng([0, 7]))
    b = tool.sar_like(flat, 4, np.random.default_rng([0, 7]))
    c = tool.sar_like(flat, 4, np.random.default_rng([0, 8]))
    assert a.shape == flat.shape and a.dtype == np.uint8
    assert (a[..., 0] == a[..., 1]).all() and (a[..., 0] == a[..., 2]).all()
    assert np.array_equal(a, b) and not np.array_equal(a, c)  # seeded by (seed, image id)
    assert a.std() > 30  # 4-look speckle on a flat scene: strongly textured
    # more looks, less speckle: the relative spread of the amplitude falls
    amp = [tool.sar_like(flat, looks, np.random.default_rng(0)).astype(float) for looks in (1, 16)]
    assert amp[1].std() / amp[1].mean() < amp[0].std() / amp[0].mean()


def test_dense_sar_target_and_guarded_rows(tmp_path):
    """The second target (ship and vehicle only, SAR-like images) and the guarded rows go
    through; the self-training runs record their pseudo-mask statistics."""
    import cv2

    bench = load_tool('proxy_shift')
    work = tmp_path / 'bench'
    table = bench.main(
        [
            *quick_args(work),
            '--target-config',
            osp.join(PROJECT, 'configs', 'target_nwpu_sar_dense.py'),
            '--rows',
            'direct',
            'pointsam',
            'pointsam_g',
            'resam_g_nofloor',
            '--num-points',
            '1',
        ]
    )
    results = json.load(open(work / 'results.json'))
    assert set(results['runs']) == {
        f'{r}|1|0' for r in ('Direct', 'PointSAM', 'PointSAM +guards', 'ReSAM +guards -floor')
    }
    test = json.load(open(work / 'target_test.json'))
    names = {c['id']: c['name'] for c in test['categories']}
    assert {names[a['category_id']] for a in test['annotations']} <= {'ship', 'vehicle'}
    assert results['runs']['Direct|1|0']['sam/num_instances'] == len(test['annotations'])
    img = cv2.imread(str(work / 'split' / 'images_sar' / test['images'][0]['file_name']))
    assert (img[..., 0] == img[..., 1]).all()
    guarded = results['runs']['PointSAM +guards|1|0']
    assert 0.0 <= guarded['gate_dropped_last'] <= 1.0 and 'pseudo_area_ratio_last' in guarded
    assert 'gate_dropped_last' not in results['runs']['PointSAM|1|0']
    assert '**Pseudo masks**' in table and '| PointSAM +guards | 1 |' in table


def test_every_row_names_a_config_that_builds_its_strategy():
    """Each row key maps to a row whose config loads; the EMA rows' teachers are averages with
    the momentum their names say, the others keep the current weights."""
    from mmengine.config import Config

    bench = load_tool('proxy_shift')
    assert set(bench.ROW_KEYS.values()) == set(bench.ROWS)
    assert set(bench.OPTIONAL_ROWS) <= set(bench.ROW_KEYS)
    for row, name in bench.ROWS.items():
        cfg = Config.fromfile(osp.join(bench.CONFIGS, name))
        st = cfg.model.get('self_training')
        if st is None:
            continue
        teacher = st.teacher
        if 'EMA' in row:
            assert teacher.type == 'EMATeacher', row
            assert teacher.momentum == (0.05 if row.endswith('0.05') else 0.02), row
        else:
            assert teacher.type == 'CurrentWeightsTeacher', row
