"""Every method on SAM 2 (tiny Hiera, random weights) through MMEngine's Runner on the repo's
real NWPU images (tests/data): the SAM2 rows train 2 iterations and evaluate."""

import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

pytest.importorskip('sam2')

from conftest import REPO, shrink_config  # noqa: E402

from mmpointsam.models.sam import SAM2  # noqa: E402


@pytest.fixture(scope='module')
def sam2_prototypes(tmp_path_factory):
    """Target prototypes of the tiny SAM2's image embedding, made by the offline tool."""
    spec = importlib.util.spec_from_file_location(
        'compute_prototypes', osp.join(REPO, 'tools', 'compute_prototypes.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = shrink_config(
        'pointsam/pointsam_sam2.1-hiera-b+-lora_10e_nwpu.py', str(tmp_path_factory.mktemp('protos'))
    )
    init_default_scope('mmpointsam')
    result = tool.compute_prototypes(cfg, max_images=4)
    # the 32-channel embedding, not the packed high-resolution maps
    assert result['prototypes'].shape[1] == 32 and result['num_features'] == 28
    path = tmp_path_factory.mktemp('protos') / 'protos.pth'
    torch.save(result, path)
    return str(path)


@pytest.mark.parametrize(
    'config',
    [
        'pointsam/pointsam_sam2.1-hiera-b+-lora_10e_nwpu.py',
        'resam/resam_sam2.1-hiera-b+-lora_10e_nwpu.py',
    ],
)
def test_sam2_self_training_two_iterations_then_evaluate(config, tmp_path, sam2_prototypes):
    cfg = shrink_config(config, str(tmp_path))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=1000)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=2)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2)
    cfg.log_processor = dict(by_epoch=False)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_dataloader.batch_size = 2
    st = cfg.model.self_training
    if st.get('prototype_loss'):
        st.prototype_loss.update(target_prototypes=sam2_prototypes, bank_size=8, cluster_interval=1)
    runner = Runner.from_cfg(cfg)
    sam = runner.model.sam
    assert isinstance(sam, SAM2) and sam.lora_modules
    before = {k: v.detach().clone() for k, v in sam.state_dict().items()}
    runner.train()
    after = sam.state_dict()
    lora = [k for k in before if 'lora_' in k]
    assert any(not torch.equal(before[k], after[k]) for k in lora)
    assert all(torch.equal(before[k], after[k]) for k in before if 'lora_' not in k)
    scalars = runner.message_hub.log_scalars
    assert 'train/pseudo_iou' in scalars
    if config.startswith('pointsam'):
        assert 'train/loss_pbr' in scalars
        assert int(runner.model.self_training.prototype_loss.num_pred) > 0
    else:
        assert 'train/loss_align' in scalars
    metrics = runner.test()
    assert 0.0 <= metrics['sam/mIoU'] <= 1.0 and metrics['sam/num_images'] == 4


def test_sam2_direct_evaluation(tmp_path):
    cfg = shrink_config('sam_direct/sam-direct_sam2.1-hiera-b+_nwpu.py', str(tmp_path))
    cfg.test_dataloader.batch_size = 2
    runner = Runner.from_cfg(cfg)
    assert isinstance(runner.model.sam, SAM2)
    metrics = runner.test()
    for key in ('sam/mIoU', 'sam/mF1', 'sam/instance_mIoU', 'sam/instance_mF1'):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics['sam/num_images'] == 4 and metrics['sam/num_instances'] > 4


def test_sam2_point2rbox_converter(tmp_path):
    """Clicks -> SAM 2 masks (NPC on) -> rotated boxes, one box or empty per click."""
    from mmpointsam.apis import Point2RBoxConverter
    from mmpointsam.datasets import sample_point_labels

    data = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
    points = str(tmp_path / 'points.json')
    sample_point_labels(osp.join(data, 'annotations', 'val.json'), points, num_points=1, seed=3)
    cfg = shrink_config('sam_direct/sam-direct_sam2.1-hiera-b+_nwpu.py', str(tmp_path))
    converter = Point2RBoxConverter.from_config(cfg, sam_checkpoint='none')
    assert isinstance(converter.model.sam, SAM2)
    summary = converter.convert(
        points, osp.join(data, 'images'), str(tmp_path / 'out'), progress=False
    )
    assert summary['converted'] == summary['images'] == 4
    with open(points) as f:
        num_clicks = len(json.load(f)['annotations'])
    assert summary['boxes_total'] + summary['empty_total'] == num_clicks
