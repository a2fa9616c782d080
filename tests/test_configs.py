"""Every config parses; the papers' table rows have the settings they claim; `--num-points`
does what the former configs/num_points/ files did; the model zoo lists every config."""

import argparse
import glob
import os.path as osp

import pytest
import yaml
from conftest import REPO, config_of
from mmengine.config import Config

from mmpointsam.utils import apply_num_points
from mmpointsam.utils.config import add_common_arguments, load_config

CONFIGS = sorted(
    p
    for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p and not osp.basename(p).startswith('_')
)
METHODS = (
    'sam_direct',
    'supervised',
    'selftrain',
    'pointsam',
    'resam',
    'point2rbox',
    'rotated_det',
)
# every config of the model zoo, relative to configs/
ZOO = sorted(
    osp.relpath(p, osp.join(REPO, 'configs'))
    for m in METHODS
    for p in glob.glob(osp.join(REPO, 'configs', m, '*.py'))
)
# the papers' rows: method x backbone x dataset, 1 point (2, 3: --num-points)
ROWS = [
    config_of(m, ds, backbone)
    for m in ('sam_direct', 'supervised', 'selftrain', 'pointsam', 'resam')
    for backbone in ('sam-vit-b', 'sam2.1-hiera-b+')
    for ds in ('nwpu', 'whu', 'hrsid')
]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_config_parses(path):
    cfg = Config.fromfile(path)
    if 'model' in cfg:  # runnable configs (not data descriptors) name their scope
        assert cfg.get('default_scope') in ('mmpointsam', 'mmrotate', 'mmdet')
    if cfg.get('num_points') is not None:
        apply_num_points(cfg)
        samplers = [
            t for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'SamplePointPrompts'
        ]
        assert samplers and all(t['num_points'] == cfg.num_points for t in samplers)


@pytest.mark.parametrize(
    'dataset,first_block,epochs', [('nwpu', 6, 10), ('whu', 1, 5), ('hrsid', 1, 10)]
)
def test_papers_schedules(dataset, first_block, epochs):
    for method in ('selftrain', 'pointsam', 'resam'):
        cfg = Config.fromfile(osp.join(REPO, 'configs', config_of(method, dataset)))
        assert cfg.model.sam.lora.first_block == first_block
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.optim_wrapper.optimizer.type == 'Adam'
        assert cfg.optim_wrapper.optimizer.lr == 5e-4
        assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
        assert cfg.param_scheduler[0].end == 250  # linear warm-up iterations
        # checkpoints are selected on a validation split, never on the test split
        assert cfg.val_dataloader.dataset.ann_file != cfg.test_dataloader.dataset.ann_file
        st = cfg.model.self_training
        assert bool(st.get('npc')) == (method == 'pointsam')
        assert bool(st.get('refiner')) == (method == 'resam')
    bank = Config.fromfile(osp.join(REPO, 'configs', config_of('pointsam', dataset)))
    assert bank.model.self_training.prototype_loss.bank_size == (128 if dataset == 'nwpu' else 512)


def _cli_config(path, *argv):
    """The config as tools/train.py and tools/test.py read it from the command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_common_arguments(parser)
    return load_config(parser.parse_args([osp.join(REPO, 'configs', path), *argv]))


def _samplers(node, found=None):
    found = [] if found is None else found
    if isinstance(node, dict):
        if node.get('type') == 'SamplePointPrompts':
            found.append(node)
        for value in node.values():
            _samplers(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _samplers(value, found)
    return found


@pytest.mark.parametrize('num_points', [2, 3])
@pytest.mark.parametrize('path', ROWS)
def test_num_points_is_the_former_num_points_files(path, num_points, monkeypatch):
    """`--num-points N` on a row is what configs/num_points/<row>_<N>pt.py was (a thin file of
    `num_points = N` over the row): every point sampler of train, val and test draws N positives
    and as many negatives, and nothing else changes."""
    monkeypatch.setenv('MMPOINTSAM_ALLOW_UNTESTED_STACK', '1')
    one = _cli_config(path).to_dict()
    many = _cli_config(path, '--num-points', str(num_points)).to_dict()
    assert many.pop('num_points') == num_points and one.pop('num_points') == 1
    samplers = _samplers(many)
    loaders = [k for k in ('train_dataloader', 'val_dataloader', 'test_dataloader') if many.get(k)]
    assert len(samplers) >= len(loaders)
    for sampler in samplers:
        assert (sampler['num_points'], sampler['num_neg_points']) == (num_points, None)
        sampler['num_points'], sampler['num_neg_points'] = 1, None
    assert many == one


def test_num_points_matches_a_resolved_former_file(monkeypatch):
    """The point samplers of configs/num_points/pointsam_nwpu_2pt.py as MMEngine resolved that file
    (before it was deleted), against `--num-points 2` on its row."""
    monkeypatch.setenv('MMPOINTSAM_ALLOW_UNTESTED_STACK', '1')
    cfg = _cli_config(config_of('pointsam', 'nwpu'), '--num-points', '2')
    sampler = lambda loader: [  # noqa: E731
        t.to_dict() for t in cfg[loader].dataset.pipeline if t['type'] == 'SamplePointPrompts'
    ]
    assert sampler('train_dataloader') == [
        dict(type='SamplePointPrompts', num_points=2, max_instances=30, num_neg_points=None)
    ]
    for loader in ('val_dataloader', 'test_dataloader'):
        assert sampler(loader) == [
            dict(type='SamplePointPrompts', num_points=2, seed=0, num_neg_points=None)
        ]


def _yaml(path):
    with open(osp.join(REPO, path)) as f:
        return yaml.safe_load(f)


def test_model_zoo_lists_every_config():
    """configs/README.md, each method's README.md and metafile.yml, and model-index.yml name every
    config of the zoo, and every config they name exists."""
    assert len(ZOO) == 79
    index = open(osp.join(REPO, 'configs', 'README.md')).read()
    metafiles = _yaml('model-index.yml')['Import']
    assert sorted(metafiles) == sorted(f'configs/{m}/metafile.yml' for m in METHODS)
    named = []
    for metafile in metafiles:
        meta = _yaml(metafile)
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections, model['Name']
            assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
            assert osp.isfile(osp.join(REPO, model['Config'])), model['Config']
            named.append(osp.relpath(model['Config'], 'configs'))
        for collection in meta['Collections']:
            assert osp.isfile(osp.join(REPO, collection['README']))
    assert sorted(named) == ZOO
    for path in ZOO:
        method, name = osp.split(path)
        assert f'({path})' in index, path  # the model-zoo table links it
        readme = open(osp.join(REPO, 'configs', method, 'README.md')).read()
        assert name in readme, path


def test_zoo_names_follow_the_scheme():
    """{algorithm}_{model}[-lora]_{epochs}e_{dataset}[-variant].py, the algorithm its folder's."""
    for path in ZOO:
        method, name = osp.split(path)
        if method == 'rotated_det':  # MMRotate's own names, with the labels as the variant
            assert name.endswith(('-pseudo.py', '-gt.py')), name
            continue
        algorithm, model, *rest = name[:-3].split('_')
        assert algorithm.split('-')[0] == method.split('_')[0], name
        assert model.split('-')[0] in ('sam', 'sam2.1', 'mobilesam'), name
        dataset = rest[-1].split('-')[0]
        assert dataset in ('nwpu', 'whu', 'hrsid'), name
        cfg = Config.fromfile(osp.join(REPO, 'configs', path))
        if len(rest) == 2:  # a training schedule: the epochs in the name are the config's
            assert cfg.train_cfg.max_epochs == int(rest[0][:-1]), name
            assert model.endswith('-lora') == bool(cfg.model.sam.get('lora')), name
        else:
            assert not cfg.get('train_dataloader'), name


def test_no_provenance_in_configs():
    """Line references into other projects' code live in the method READMEs, not in configs."""
    import re

    for path in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True):
        text = open(path).read()
        assert not re.search(r'\.py L\d+|\bL\d+-\d+\b|\bL\d{2,}\b', text), path


@pytest.mark.parametrize(
    'path',
    [
        'configs/rotated_det/rotated-retinanet-rbox-le90_r50_fpn_3x_nwpu-pseudo.py',
        'configs/rotated_det/rotated-fcos-hbox-le90_r50_fpn_3x_nwpu-gt.py',
        'projects/proxy_shift/configs/stage2_selftrain.py',
    ],
)
def test_generic_nwpu_datasets_have_the_packages_classes(path):
    """Configs that read NWPU with a generic dataset type (mmdet.CocoDataset, PointLabelDataset)
    take configs/_base_/datasets/nwpu_vhr10_classes.py, which must be NWPUVHR10Dataset's order."""
    from mmpointsam.datasets import NWPUVHR10Dataset

    classes = NWPUVHR10Dataset.METAINFO['classes']
    base = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/nwpu_vhr10_classes.py'))
    assert base.nwpu_classes == classes
    cfg = Config.fromfile(osp.join(REPO, path))
    assert cfg.train_dataloader.dataset.metainfo.classes == classes
    if cfg.get('val_dataloader'):
        assert cfg.val_dataloader.dataset.metainfo.classes == classes
