"""The `-paper` configs: the public code's protocol per table row; the default rows keep theirs."""

import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import NWPU, REPO, config_of, shrink_config
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpointsam.registry import DATASETS, MODELS, TRANSFORMS
from mmpointsam.utils import apply_num_points

METHODS = ('sam_direct', 'supervised', 'selftrain', 'pointsam', 'resam')
# the `-paper` configs, under configs/: 'pointsam/pointsam_sam-vit-b-lora_10e_nwpu-paper.py', ...
NAMES = sorted(
    osp.relpath(p, osp.join(REPO, 'configs'))
    for m in METHODS
    for p in glob.glob(osp.join(REPO, 'configs', m, '*-paper.py'))
)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpointsam')


# (dataset) -> milestones (iterations), epochs of PointSAM & baselines, ReSAM epochs, cap,
# test/val annotation file: the values of the public code (configs/_base_/protocols/paper_*.py)
PROTOCOL = {
    'nwpu': ([2000, 4000], 10, 10, 50, 'annotations/NWPU_instances_val.json'),
    'whu': ([8000, 15000], 5, 10, 30, 'annotations/WHU_building_val.json'),
    'hrsid': ([1500, 2000], 10, 5, 50, 'Annotations/inshore/inshore_test.json'),
}
TRAIN_ANN = {
    'nwpu': 'annotations/NWPU_instances_train.json',
    'whu': 'annotations/WHU_building_train.json',
    'hrsid': 'Annotations/inshore/inshore_train.json',
}
# what the default rows use today
DEFAULT_TEST_ANN = {
    'nwpu': 'annotations/NWPU_instances_val.json',
    'whu': 'annotations/test.json',
    'hrsid': 'annotations/test2017.json',
}
DEFAULT_MILESTONES = {'nwpu': [7, 9], 'whu': [3, 4], 'hrsid': [7, 9]}


def _row(name):
    method, base = osp.split(name)
    return method, base[: -len('-paper.py')].rsplit('_', 1)[1]


def _default(name):
    """The default row a paper config changes (same method, dataset and backbone)."""
    method, dataset = _row(name)
    backbone = osp.basename(name).split('_')[1].replace('-lora', '')
    return config_of(method, dataset, backbone)


def _sampler(pipeline):
    samplers = [t for t in pipeline if t['type'] == 'SamplePointPrompts']
    assert len(samplers) == 1
    return samplers[0]


def test_every_row_has_a_paper_config():
    rows = sorted(
        osp.relpath(p, osp.join(REPO, 'configs'))
        for m in METHODS
        for p in glob.glob(osp.join(REPO, 'configs', m, '*.py'))
        if not p.endswith(('-paper.py', '-clicks.py', '-masked-val.py'))
        and 'ema' not in p
        and 'mobilesam' not in p
    )
    assert len(rows) == 30 and sorted(_default(n) for n in NAMES) == rows


@pytest.mark.parametrize('name', NAMES)
def test_paper_config_builds(name, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    assert cfg.default_scope == 'mmpointsam'
    cfg.num_points = 3  # what --num-points 3 does
    apply_num_points(cfg)
    assert _sampler(cfg.test_dataloader.dataset.pipeline)['num_points'] == 3
    if cfg.get('train_dataloader'):
        assert _sampler(cfg.train_dataloader.dataset.pipeline)['num_points'] == 3
        for t in cfg.train_dataloader.dataset.pipeline:
            TRANSFORMS.build(t)
    small = shrink_config(name, str(tmp_path), img_size=64)
    st = small.model.get('self_training')
    if st and st.get('prototype_loss'):
        st.prototype_loss.target_prototypes = None
    model = MODELS.build(small.model)
    assert model.data_preprocessor.pad_mode == 'center'
    assert model.data_preprocessor.std.flatten().tolist() == [255.0] * 3
    assert model.data_preprocessor.mean.flatten().tolist() == [0.0] * 3


@pytest.mark.parametrize('name', NAMES)
def test_paper_protocol_values(name):
    method, dataset = _row(name)
    milestones, epochs, resam_epochs, cap, test_ann = PROTOCOL[dataset]
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    pre = cfg.model.data_preprocessor
    assert (pre.pad_mode, pre.mean, pre.std) == ('center', (0.0, 0.0, 0.0), (255.0, 255.0, 255.0))
    assert cfg.test_dataloader.dataset.ann_file == test_ann
    if dataset == 'whu':
        assert cfg.test_dataloader.dataset.data_prefix.img == 'images/val/'
    if dataset == 'hrsid':
        assert cfg.test_dataloader.dataset.exclude_img_ids == [166]
    if method == 'sam_direct':
        assert cfg.train_dataloader is None and cfg.val_dataloader is None
        return
    # trained on the whole training file, selected on the test file
    assert cfg.train_dataloader.dataset.ann_file == TRAIN_ANN[dataset]
    assert cfg.val_dataloader.dataset.ann_file == test_ann
    if dataset == 'hrsid':
        assert cfg.train_dataloader.dataset.exclude_img_ids == [351, 375, 376]
        assert cfg.val_dataloader.dataset.exclude_img_ids == [166]
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.end) == ('LinearLR', False, 250)
    assert (steps.type, steps.by_epoch, steps.milestones, steps.gamma) == (
        'MultiStepLR',
        False,
        milestones,
        0.1,
    )
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('Adam', 5e-4, 1e-4)
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.train_cfg.max_epochs == (resam_epochs if method == 'resam' else epochs)
    pipeline = cfg.train_dataloader.dataset.pipeline
    types = [t['type'] for t in pipeline]
    assert _sampler(pipeline)['max_instances'] == (None if method == 'resam' else cap)
    save_best = cfg.default_hooks.checkpoint.save_best
    assert save_best == (None if method == 'resam' else 'sam/mIoU')
    st = cfg.model.get('self_training')
    if method == 'supervised':
        assert types == [
            'LoadImageFromFile',
            'LoadSAMAnnotations',
            'SamplePointPrompts',
            'PackSAMInputs',
        ]
        return
    flip = pipeline[types.index('RandomFlip')]
    assert (flip.prob, flip.direction) == (0.5, ['horizontal', 'vertical', 'diagonal'])
    strong = pipeline[types.index('StrongView')].transforms
    assert [t['type'] for t in strong] == ['PhotometricSequence']
    assert [(op['op'], op['prob']) for op in strong[0].ops] == [
        ('posterize', 0.5),
        ('equalize', 0.5),
        ('sharpen', 0.5),
        ('solarize', 0.5),
        ('brightness_contrast', 0.5),
        ('shadow', 0.5),
    ]
    if method == 'selftrain':
        assert st.teacher.type == 'FrozenTeacher'
    else:
        assert st.teacher.type == 'CurrentWeightsTeacher'
    # the papers' behaviour: none of the guards of issue 21, whatever the defaults are
    assert st.get('gate') is None
    if method == 'pointsam':
        assert (st.npc.min_kept, st.npc.min_negative_distance) == (None, 0.0)
    if method == 'resam':
        assert st.refiner.min_area_ratio is None and st.refiner.max_growth is None
    if method == 'pointsam':
        assert (st.npc.iou_thr, st.npc.negative_sampling) == (0.1, 'random')
        assert st.prototype_loss.bank_size == (128 if dataset == 'nwpu' else 512)
        assert st.prototype_loss.target_prototypes.endswith('_paper.pth')
    if method == 'resam':
        ref = st.refiner
        assert (
            ref.threshold,
            ref.entropy_unit,
            ref.full_resolution,
            ref.requery_prompt,
            ref.requery,
        ) == (0.3, 'nats', True, 'box', True)


# the public code's loss formulas (configs/_base_/protocols/paper.py): PointSAM and its baselines
# pass the mask count as focal alpha and dice smooth (sum over masks, pooled dice), ReSAM averages
# per mask
PAPER_IOU = dict(type='IoUPredictionLoss', loss_weight=1.0, pred_threshold=0.5, union_eps=1e-7)
PAPER_LOSSES = dict(
    loss_focal=dict(
        type='MaskFocalLoss',
        alpha=1.0,
        gamma=2.0,
        loss_weight=20.0,
        formula='uniform_alpha',
        mask_reduction='sum',
    ),
    loss_dice=dict(
        type='MaskDiceLoss',
        smooth=1 / 16,
        loss_weight=1.0,
        reduction='pooled',
        smooth_per_mask=True,
    ),
    loss_iou=PAPER_IOU,
)
PAPER_RESAM_LOSSES = dict(
    loss_focal=dict(
        type='MaskFocalLoss',
        alpha=0.8,
        gamma=2.0,
        loss_weight=20.0,
        formula='uniform_alpha',
        mask_reduction='mean',
    ),
    loss_dice=dict(type='MaskDiceLoss', smooth=1 / 16, loss_weight=1.0),
    loss_iou=PAPER_IOU,
)
DEFAULT_LOSSES = dict(
    loss_focal=dict(type='MaskFocalLoss', alpha=0.8, gamma=2.0, loss_weight=20.0),
    loss_dice=dict(type='MaskDiceLoss', smooth=1.0, loss_weight=1.0),
    loss_iou=dict(type='IoUPredictionLoss', loss_weight=1.0),
)


@pytest.mark.parametrize('name', NAMES)
def test_paper_losses(name):
    method, _ = _row(name)
    paper = Config.fromfile(osp.join(REPO, 'configs', name)).model
    default = Config.fromfile(osp.join(REPO, 'configs', _default(name))).model
    for key, want in DEFAULT_LOSSES.items():
        assert default[key].to_dict() == want, key
    assert default.train_cfg.loss_chunk_size == 8
    if method == 'sam_direct':
        for key in DEFAULT_LOSSES:
            assert paper[key] == default[key]
        return
    want = PAPER_RESAM_LOSSES if method == 'resam' else PAPER_LOSSES
    for key, value in want.items():
        assert paper[key].to_dict() == value, key
    # sums / pooled dice cannot be chunked; ReSAM's means can
    assert paper.train_cfg.loss_chunk_size == (8 if method == 'resam' else None)
    built = [MODELS.build(paper[k]) for k in want]
    assert all(b.averages_over_masks for b in built) == (method == 'resam')


@pytest.mark.parametrize('name', NAMES)
def test_default_row_keeps_its_values(name):
    """The paper config's default counterpart still has today's settings."""
    method, dataset = _row(name)
    cfg = Config.fromfile(osp.join(REPO, 'configs', _default(name)))
    pre = cfg.model.data_preprocessor
    assert pre.get('pad_mode', 'corner') == 'corner'
    assert 'mean' not in pre and 'std' not in pre  # SAM's mean/std, the preprocessor's default
    assert cfg.test_dataloader.dataset.ann_file == DEFAULT_TEST_ANN[dataset]
    if method == 'sam_direct':
        return
    assert cfg.val_dataloader.dataset.ann_file != cfg.test_dataloader.dataset.ann_file
    assert cfg.train_dataloader.dataset.ann_file != TRAIN_ANN[dataset]
    steps = cfg.param_scheduler[1]
    assert (steps.by_epoch, steps.milestones) == (True, DEFAULT_MILESTONES[dataset])
    assert cfg.train_cfg.max_epochs == (5 if dataset == 'whu' else 10)
    assert cfg.default_hooks.checkpoint.save_best == 'sam/mIoU'
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert _sampler(pipeline)['max_instances'] == 30
    st = cfg.model.get('self_training')
    if method == 'supervised':
        assert 'RandomFlip' in [t['type'] for t in pipeline]
        return
    strong = pipeline[[t['type'] for t in pipeline].index('StrongView')].transforms
    assert strong[0].type == 'RandAugment' and strong[0].aug_num == 2
    if method == 'selftrain':
        assert st.teacher.type == 'CurrentWeightsTeacher'
    else:  # issue 21: PointSAM and ReSAM average the student, lagging by a third of the run
        assert st.teacher.to_dict() == dict(type='EMATeacher', run_fraction=1 / 3)
    if method == 'pointsam':
        assert st.npc.get('negative_sampling') in (None, 'all')
    if method == 'resam':
        assert st.refiner.threshold == 0.25
        for key in ('entropy_unit', 'full_resolution', 'requery_prompt'):
            assert key not in st.refiner


def test_hrsid_inshore_base_matches_protocol():
    base = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'datasets', 'hrsid_inshore_selftrain.py')
    )
    paper = Config.fromfile(
        osp.join(REPO, 'configs', config_of('pointsam', 'hrsid', variant='paper'))
    )
    for split in ('train', 'val', 'test'):
        a, b = base[f'{split}_dataloader'].dataset, paper[f'{split}_dataloader'].dataset
        assert (a.type, a.data_root, a.ann_file, a.data_prefix, a.exclude_img_ids) == (
            b.type,
            b.data_root,
            b.ann_file,
            b.data_prefix,
            b.exclude_img_ids,
        )
    full = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', 'hrsid.py'))
    assert full.test_dataloader.dataset.ann_file == 'annotations/test2017.json'


def _load(img_path):
    results = TRANSFORMS.build(dict(type='LoadImageFromFile'))(dict(img_path=img_path))
    return results


def _paper_strong_view():
    cfg = Config.fromfile(osp.join(REPO, 'configs', config_of('pointsam', 'nwpu', variant='paper')))
    pipeline = cfg.train_dataloader.dataset.pipeline
    return TRANSFORMS.build(pipeline[[t['type'] for t in pipeline].index('StrongView')])


def test_paper_strong_view_on_a_real_image():
    view = _paper_strong_view()
    img_path = osp.join(NWPU, 'images', '018.jpg')
    outputs = []
    for seed in (0, 0, 1):
        np.random.seed(seed)
        results = view(_load(img_path))
        assert results['img_strong'].shape == results['img'].shape
        assert results['img_strong'].dtype == np.uint8
        outputs.append(results['img_strong'])
    assert np.array_equal(outputs[0], outputs[1])  # deterministic for a seed
    assert not np.array_equal(outputs[0], outputs[2])
    # over a few seeds the view changes the image and sometimes leaves it as it is (2^-6)
    changed = []
    for seed in range(8):
        np.random.seed(seed)
        results = view(_load(img_path))
        changed.append(not np.array_equal(results['img_strong'], results['img']))
    assert any(changed)


def test_paper_selftrain_pipeline_on_real_data(tmp_path):
    """The whole paper self-training pipeline (diagonal flips included) on tests/data."""
    cfg = shrink_config(config_of('pointsam', 'nwpu', variant='paper'), str(tmp_path))
    np.random.seed(0)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    directions = set()
    for _ in range(5):
        for i in range(len(dataset)):
            sample = dataset[i]
            inputs, data_sample = sample['inputs'], sample['data_samples']
            assert inputs['strong'].shape == inputs['weak'].shape
            assert len(data_sample.gt_instances) <= 50
            directions.add(data_sample.metainfo['flip_direction'])
    assert 'diagonal' in directions  # both flips at once, like albumentations' Flip


def _ops(*ops):
    from mmpointsam.datasets.transforms.views import PhotometricSequence

    return PhotometricSequence([dict(op) for op in ops])


def test_photometric_ops_match_the_public_settings():
    img = _load(osp.join(NWPU, 'images', '018.jpg'))['img']
    run = lambda *ops: _ops(*ops)(dict(img=img.copy()))['img']  # noqa: E731
    assert np.array_equal(run(dict(op='posterize', bits=4, prob=1.0)), img & 0xF0)
    assert np.array_equal(
        run(dict(op='solarize', threshold=128, prob=1.0)), np.where(img < 128, img, 255 - img)
    )
    eq = np.stack([cv2.equalizeHist(np.ascontiguousarray(img[..., c])) for c in range(3)], -1)
    assert np.array_equal(run(dict(op='equalize', prob=1.0)), eq)
    assert np.array_equal(run(dict(op='posterize', prob=0.0), dict(op='shadow', prob=0.0)), img)
    # brightness-contrast: v * (1 + c) + 255 * b with |c|, |b| <= 0.2, one lut for all pixels
    out = run(dict(op='brightness_contrast', brightness=0.2, contrast=0.2, prob=1.0))
    inside = (img > 60) & (img < 150)
    ratio = (out[inside].astype(float) - img[inside]) / 255
    assert np.all(np.abs(ratio) <= 0.2 * 150 / 255 + 0.2 + 1e-6)
    # the shadow darkens the lower half only (roi y from 0.5); elsewhere only the uint8 HLS
    # round trip (albumentations converts the whole image too) moves values by a few levels
    np.random.seed(3)
    out = run(
        dict(
            op='shadow',
            roi=(0.0, 0.5, 1.0, 1.0),
            num_shadows=(1, 2),
            num_vertices=5,
            lightness=0.5,
            prob=1.0,
        )
    ).astype(int)
    h = img.shape[0]
    assert np.abs(out[: h // 2 - 1] - img[: h // 2 - 1]).max() <= 3
    assert (img[h // 2 :].astype(int) - out[h // 2 :]).max() > 30
    with pytest.raises(ValueError, match='unknown op'):
        _ops(dict(op='rotate', prob=1.0))


def test_hrsid_exclude_img_ids(tmp_path):
    from mmpointsam.datasets.coco_instance import InvalidAnnotationError

    (tmp_path / 'img').mkdir()
    images, anns = [], []
    for i in range(3):
        cv2.imwrite(str(tmp_path / 'img' / f'{i}.jpg'), np.full((32, 32, 3), 80, np.uint8))
        images.append(dict(id=i, file_name=f'{i}.jpg', width=32, height=32))
        poly = [4.0, 4.0, 20.0, 4.0, 20.0, 20.0, 4.0, 20.0]
        if i == 1:  # like inshore_test.json's image 166: a zero-area polygon, bbox 0
            poly = [5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
        anns.append(
            dict(
                id=i + 1,
                image_id=i,
                category_id=0,
                segmentation=[poly],
                area=256.0,
                bbox=[4.0, 4.0, 16.0, 16.0] if i != 1 else [0.0, 0.0, 0.0, 0.0],
                iscrowd=0,
            )
        )
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(
        json.dumps(dict(images=images, annotations=anns, categories=[dict(id=0, name='ship')]))
    )
    cfg = dict(
        type='HRSIDDataset',
        data_root=str(tmp_path),
        ann_file='ann.json',
        data_prefix=dict(img='img/'),
        test_mode=True,
        pipeline=[],
    )
    with pytest.raises(InvalidAnnotationError, match='zero area'):
        DATASETS.build(cfg)
    dataset = DATASETS.build(dict(cfg, exclude_img_ids=[1]))
    assert [dataset[i]['img_id'] for i in range(len(dataset))] == [0, 2]


@pytest.mark.parametrize('name', NAMES)
def test_selftrain_drops_images_over_100_instances(name):
    """Only the plain self-training baseline leaves out images with more than 100 instances
    (train_selftrain.py L55-57); the default rows keep every image."""
    method, _ = _row(name)
    paper = Config.fromfile(osp.join(REPO, 'configs', name))
    default = Config.fromfile(osp.join(REPO, 'configs', _default(name)))
    for cfg in (paper, default):
        if cfg.get('train_dataloader'):
            got = (cfg.train_dataloader.dataset.get('filter_cfg') or {}).get('max_gt_instances')
            assert got == (100 if cfg is paper and method == 'selftrain' else None)


def test_max_gt_instances_drops_crowded_training_images(tmp_path):
    # image i holds i + 1 squares; max_gt_instances=2 keeps images 0 and 1 in training only
    (tmp_path / 'img').mkdir()
    images, anns = [], []
    for i in range(3):
        cv2.imwrite(str(tmp_path / 'img' / f'{i}.jpg'), np.full((32, 32, 3), 80, np.uint8))
        images.append(dict(id=i, file_name=f'{i}.jpg', width=32, height=32))
        for j in range(i + 1):
            x = 2.0 + 9 * j
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=i,
                    category_id=0,
                    iscrowd=0,
                    segmentation=[[x, 4.0, x + 6, 4.0, x + 6, 20.0, x, 20.0]],
                    area=96.0,
                    bbox=[x, 4.0, 6.0, 16.0],
                )
            )
    (tmp_path / 'ann.json').write_text(
        json.dumps(dict(images=images, annotations=anns, categories=[dict(id=0, name='ship')]))
    )
    cfg = dict(
        type='HRSIDDataset',
        data_root=str(tmp_path),
        ann_file='ann.json',
        data_prefix=dict(img='img/'),
        pipeline=[],
        filter_cfg=dict(filter_empty_gt=True, max_gt_instances=2),
    )
    train = DATASETS.build(cfg)
    assert [train[i]['img_id'] for i in range(len(train))] == [0, 1]
    test = DATASETS.build(dict(cfg, test_mode=True))
    assert len(test) == 3


@pytest.mark.parametrize('method', ['selftrain', 'pointsam', 'resam'])
def test_paper_config_trains_and_selects(method, tmp_path):
    """One epoch through MMEngine's Runner as the paper config has it (iteration milestones,
    the public views, the frozen teacher / NPC / ReSAM options, selection by validation):
    tiny SAM, the repo's real NWPU images; PBR off (it needs prototype files)."""
    from mmengine.runner import Runner

    cfg = shrink_config(config_of(method, 'nwpu', variant='paper'), str(tmp_path), img_size=64)
    cfg.model.self_training.prototype_loss = None
    cfg.train_cfg.max_epochs = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == len(runner.train_dataloader)
    assert 'train/pseudo_iou' in runner.message_hub.log_scalars
    best = glob.glob(osp.join(str(tmp_path), 'best_*.pth'))
    assert len(best) == (0 if method == 'resam' else 1)
    assert osp.exists(osp.join(str(tmp_path), 'epoch_1.pth'))
