"""SAMVisualizationHook through MMEngine's Runner: evaluation pictures, backends, self-training."""

import glob
import os.path as osp

import mmcv
import torch
from conftest import shrink_config
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.visualization import BaseVisBackend

from mmpointsam.models.utils import low_res_to_original
from mmpointsam.registry import VISBACKENDS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'


@VISBACKENDS.register_module(force=True)
class RecordingVisBackend(BaseVisBackend):
    """Stands in for TensorBoard: remembers the images it is given."""

    images = []

    @property
    def experiment(self):
        return self

    def _init_env(self):
        pass

    def add_image(self, name, image, step=0, **kwargs):
        RecordingVisBackend.images.append((name, image.shape, step))


def _tiny_cfg(config: str, work_dir: str, vis_name: str) -> Config:
    """The shared test config shrinker, with a visualizer of its own."""
    cfg = shrink_config(config, work_dir)
    # the visualizer is a named singleton: a fresh one with a TensorBoard stand-in
    cfg.visualizer = dict(
        type='SAMVisualizer',
        name=vis_name,
        vis_backends=[dict(type='LocalVisBackend'), dict(type='RecordingVisBackend')],
    )
    return cfg


def test_hook_saves_first_images_of_a_test_run(tmp_path):
    cfg = _tiny_cfg('sam_direct/sam-direct_sam-vit-b_nwpu.py', str(tmp_path), 'vis_hook_test')
    cfg.test_dataloader.batch_size = 2
    cfg.default_hooks.visualization = dict(type='SAMVisualizationHook', num_images=3)
    RecordingVisBackend.images.clear()
    runner = Runner.from_cfg(cfg)
    runner.test()
    files = sorted(glob.glob(osp.join(runner.log_dir, 'vis', 'test', '*.jpg')))
    assert [osp.basename(f)[:4] for f in files] == ['000_', '001_', '002_']
    for f in files:
        img_name = osp.basename(f)[4:]
        h, w = mmcv.imread(osp.join(DATA, 'images', img_name)).shape[:2]
        # ground truth | gap | prediction
        assert mmcv.imread(f).shape == (h, 2 * w + 6, 3)
    assert [n for n, _, _ in RecordingVisBackend.images] == [
        'test/' + osp.splitext(osp.basename(f))[0] for f in files
    ]
    # the local backend did not save a second copy
    assert not glob.glob(osp.join(runner.log_dir, 'vis_data', 'vis_image', '*'))


class FakeSelfTraining:
    """The self-training contract: the hook raises ``visualize_next``; the strategy fills
    ``last_visualization`` during that iteration (here: pseudo masks = GT, student = its own)."""

    def __init__(self):
        self.visualize_next = False
        self.last_visualization = None
        self.asked = []

    def loss(self, model, inputs, data_samples, prompts):
        self.asked.append(self.visualize_next)
        embeddings = model.sam.encode(inputs)
        logits, iou = model.sam.decode(
            embeddings, prompts.batch_idx, prompts.points, prompts.labels
        )
        targets = model.low_res_targets(data_samples, logits.device)
        if self.visualize_next:
            self.visualize_next = False
            s, n = data_samples[0], prompts.counts[0]
            student = (
                low_res_to_original(
                    logits[:n].detach(), s.img_shape, s.ori_shape, model.sam.img_size
                )
                > 0
            )
            self.last_visualization = dict(
                img_path=s.img_path,
                ori_shape=s.ori_shape,
                flip=s.flip,
                flip_direction=s.flip_direction,
                points=s.gt_instances.points,
                point_labels=s.gt_instances.point_labels,
                pseudo_masks=torch.from_numpy(s.gt_instances.masks.masks.astype(bool)),
                student_masks=student,
                labels=s.gt_instances.labels,
            )
        return model.mask_losses(logits, iou, targets)


def test_hook_draws_pseudo_masks_and_validation_during_training(tmp_path):
    cfg = _tiny_cfg(
        'supervised/supervised_sam-vit-b-lora_10e_nwpu.py', str(tmp_path), 'vis_hook_train'
    )
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=3, val_interval=3)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100, by_epoch=False)
    cfg.log_processor = dict(by_epoch=False)
    cfg.val_dataloader.dataset.indices = 2
    cfg.default_hooks.visualization = dict(
        type='SAMVisualizationHook', num_images=1, train_interval=2
    )
    RecordingVisBackend.images.clear()
    runner = Runner.from_cfg(cfg)
    strategy = FakeSelfTraining()
    runner.model.self_training = strategy
    runner.train()
    # asked before the 2nd iteration only, and the record was drawn and cleared
    assert strategy.asked == [False, True, False]
    assert strategy.last_visualization is None
    vis = osp.join(runner.log_dir, 'vis')
    pseudo = glob.glob(osp.join(vis, 'train_iter_2', '*.jpg'))
    assert len(pseudo) == 1
    img_name = osp.basename(pseudo[0])
    h, w = mmcv.imread(osp.join(DATA, 'images', img_name)).shape[:2]
    assert mmcv.imread(pseudo[0]).shape == (h, 2 * w + 6, 3)
    assert len(glob.glob(osp.join(vis, 'val_iter_3', '*.jpg'))) == 1
    tags = [n.split('/')[0] for n, _, _ in RecordingVisBackend.images]
    assert tags == ['self_training', 'val']


def test_hook_draws_with_a_sam_visualizer_when_config_keeps_mmdets():
    from types import SimpleNamespace

    from mmdet.visualization import DetLocalVisualizer

    from mmpointsam.engine.hooks import SAMVisualizationHook
    from mmpointsam.visualization import SAMVisualizer

    det = DetLocalVisualizer.get_instance(
        'vis_hook_mmdet', vis_backends=[dict(type='RecordingVisBackend', save_dir='unused')]
    )
    det.dataset_meta = dict(classes=('plane',))
    vis = SAMVisualizationHook._visualizer(SimpleNamespace(visualizer=det))
    assert isinstance(vis, SAMVisualizer) and vis.dataset_meta == det.dataset_meta
    assert len(det._vis_backends) == 1
    assert list(vis._vis_backends.values()) == list(det._vis_backends.values())
