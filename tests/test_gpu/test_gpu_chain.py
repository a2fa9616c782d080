"""The GPU chain: mmcv's CUDA ops, a rotated detector on pseudo labels, bf16 self-training and an
evaluation, all on CUDA. Skipped without a GPU; `make test-gpu` runs this module alone."""

import importlib.util
import os.path as osp

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _module(rel):
    spec = importlib.util.spec_from_file_location(osp.basename(rel)[:-3], osp.join(REPO, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_environment_report_finds_working_cuda_ops():
    from mmpointsam.utils.collect_env import collect_env

    info, problems = collect_env()
    assert problems == [], problems
    assert info['mmcv CUDA ops'].startswith('nms_rotated runs on')


def test_rotated_ops_on_cuda_match_cpu():
    from mmcv.ops import box_iou_rotated, nms_rotated

    g = torch.Generator().manual_seed(0)
    boxes = torch.cat(
        [
            torch.rand(64, 2, generator=g) * 200,
            torch.rand(64, 2, generator=g) * 40 + 4,
            (torch.rand(64, 1, generator=g) - 0.5) * 3.14,
        ],
        1,
    )
    scores = torch.rand(64, generator=g)
    iou_cpu = box_iou_rotated(boxes, boxes)
    iou_gpu = box_iou_rotated(boxes.cuda(), boxes.cuda()).cpu()
    assert torch.allclose(iou_cpu, iou_gpu, atol=1e-4)
    _, keep_cpu = nms_rotated(boxes, scores, 0.3)
    _, keep_gpu = nms_rotated(boxes.cuda(), scores.cuda(), 0.3)
    assert sorted(keep_cpu.tolist()) == sorted(keep_gpu.cpu().tolist())


def test_rotated_retinanet_on_pseudo_labels(tmp_path_factory, tmp_path):
    """Clicks -> pseudo rboxes (SAM on the GPU) -> 2 iterations of rotated RetinaNet on the GPU."""
    from mmengine.runner import Runner

    from mmpointsam.evaluation.functional.rbox_quality import _serial_map_eval

    det = _module('tests/test_tools/test_rotated_det_configs.py')
    files = det.make_label_files(tmp_path_factory.mktemp('labels'))
    runner = Runner.from_cfg(det.small_cfg(det.CONFIGS[0], files, str(tmp_path)))
    assert next(runner.model.parameters()).is_cuda
    with _serial_map_eval():
        runner.train()
    assert runner.iter == 2
    assert 0.0 <= runner.message_hub.get_scalar('val/dota/mAP').current() <= 1.0


def test_pointsam_bf16_self_training_then_evaluation(tmp_path):
    """2 PointSAM iterations with the encoder under bf16 autocast, then an evaluation, on CUDA."""
    from conftest import shrink_config
    from mmengine.runner import Runner

    cfg = shrink_config('pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py', str(tmp_path))
    cfg.model.sam.encoder_autocast = 'bf16'
    cfg.model.self_training.prototype_loss = None  # no target prototype file needed
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2)
    cfg.log_processor = dict(by_epoch=False)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert next(model.parameters()).is_cuda
    lora = {k: v.detach().clone() for k, v in model.state_dict().items() if 'lora_' in k}
    runner.train()
    after = model.state_dict()
    assert any(not torch.equal(v, after[k]) for k, v in lora.items())
    assert all(torch.isfinite(v).all() for v in after.values())
    metrics = runner.val_loop.run()
    assert 0.0 <= metrics['sam/mIoU'] <= 1.0
    assert torch.cuda.max_memory_allocated() > 0
