"""Pictures of evaluations and of self-training, saved to the work dir and the visual backends.

Validation/test: the first ``num_images`` images of every evaluation, ground truth beside
prediction, in ``<work_dir>/<timestamp>/vis/{val_iter_<i>,test}/``. Self-training: every
``train_interval`` iterations the strategy (``model.self_training``) is asked for one record
(``visualize_next = True``); the hook draws its teacher pseudo masks beside the student's
prediction in ``vis/train_iter_<i>/`` and clears ``last_visualization``.
"""

import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.dist import is_main_process
from mmengine.fileio import get
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.visualization import LocalVisBackend, Visualizer

from mmpointsam.registry import HOOKS
from mmpointsam.visualization import SAMVisualizer

_RECORD_KEYS = ('img_path', 'points', 'point_labels', 'pseudo_masks', 'student_masks')


@HOOKS.register_module()
class SAMVisualizationHook(Hook):
    """Save pictures of predictions (beside ground truth) and of self-training pseudo masks.

    Files are always written under ``<log_dir>/<out_dir>``; the images also go to every
    non-local backend of the visualizer (e.g. TensorBoard when ``TensorboardVisBackend`` is
    configured), tagged ``<mode>/<image name>``.

    Args:
        num_images: images drawn per evaluation (the first ones of the dataloader).
        draw_gt: draw the ground-truth panel beside the prediction.
        pred_score_thr: hide predictions scored below it (None: draw all; SAM makes one mask
            per prompt, so all of them are normally wanted).
        train_interval: every this many training iterations ask the self-training strategy for
            pseudo masks to draw; None never.
        out_dir: folder under the run's log dir.
        file_ext: picture format, ``.jpg`` or ``.png``.
        backend_args: file backend arguments to read the original images.
    """

    priority = 'NORMAL'

    def __init__(
        self,
        num_images: int = 8,
        draw_gt: bool = True,
        pred_score_thr: Optional[float] = None,
        train_interval: Optional[int] = None,
        out_dir: str = 'vis',
        file_ext: str = '.jpg',
        backend_args: Optional[dict] = None,
    ) -> None:
        if num_images < 0:
            raise ValueError(f'SAMVisualizationHook: num_images must be >= 0, got {num_images}')
        if train_interval is not None and train_interval < 1:
            raise ValueError(
                f'SAMVisualizationHook: train_interval must be >= 1 or None, got {train_interval}'
            )
        if file_ext not in ('.jpg', '.jpeg', '.png'):
            raise ValueError(f'SAMVisualizationHook: file_ext must be .jpg or .png, got {file_ext}')
        self.num_images = num_images
        self.draw_gt = draw_gt
        self.pred_score_thr = pred_score_thr
        self.train_interval = train_interval
        self.out_dir = out_dir
        self.file_ext = file_ext
        self.backend_args = backend_args
        self._count = 0
        self._eval_dir = None
        self._mode = None

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _visualizer(runner) -> SAMVisualizer:
        """The runner's visualizer, or a SAMVisualizer sharing its backends when it is another
        kind (e.g. a config that kept mmdet's DetLocalVisualizer)."""
        current = runner.visualizer
        if isinstance(current, SAMVisualizer):
            return current
        name = f'{current.instance_name}_sam'
        if not SAMVisualizer.check_instance_created(name):
            print_log(
                f'visualizer is {type(current).__name__}, not SAMVisualizer: '
                'SAMVisualizationHook draws with a SAMVisualizer sharing its backends',
                logger='current',
            )
        vis = SAMVisualizer.get_instance(name, vis_backends=list(current._vis_backends.values()))
        vis.dataset_meta = current.dataset_meta
        return vis

    def _load_image(self, img_path: str, flip_direction: Optional[str] = None) -> np.ndarray:
        """The original image (RGB), flipped like the pipeline flipped the annotations."""
        img = mmcv.imfrombytes(get(img_path, backend_args=self.backend_args), channel_order='rgb')
        if flip_direction:
            img = mmcv.imflip(img, direction=flip_direction)
        return img

    def _save(
        self, vis: Visualizer, drawn: np.ndarray, folder: str, stem: str, tag: str, step: int
    ) -> None:
        """Write a picture to the hook's folder and hand it to the non-local backends."""
        mmcv.imwrite(drawn[..., ::-1], osp.join(folder, stem + self.file_ext))
        # the local backend would save a second copy; the others (TensorBoard...) get the image
        for backend in vis._vis_backends.values():
            if not isinstance(backend, LocalVisBackend):
                backend.add_image(f'{tag}/{stem}', drawn, step)

    @staticmethod
    def _strategy(runner):
        """The model's self-training strategy, or None (unwrapping DDP)."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return getattr(model, 'self_training', None)

    # ------------------------------------------------------------------ evaluation
    def _start_eval(self, runner, mode: str) -> None:
        """Reset the picture count and pick the folder of this evaluation."""
        self._count = 0
        self._mode = mode
        sub = 'test' if mode == 'test' else f'val_iter_{runner.iter}'
        self._eval_dir = osp.join(runner.log_dir, self.out_dir, sub)

    def before_val_epoch(self, runner) -> None:
        """Start counting the pictures of this validation."""
        self._start_eval(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        """Start counting the pictures of this test."""
        self._start_eval(runner, 'test')

    def _draw_outputs(self, runner, outputs: Sequence) -> None:
        """Draw prediction beside ground truth for the first ``num_images`` samples."""
        if self._count >= self.num_images or not is_main_process():
            return
        vis = self._visualizer(runner)
        for sample in outputs:
            if self._count >= self.num_images:
                break
            img_path = sample.metainfo.get('img_path')
            if img_path is None:
                raise KeyError(
                    'SAMVisualizationHook: a predicted sample has no img_path in its '
                    'metainfo (add it to PackSAMInputs meta_keys)'
                )
            flip = sample.metainfo.get('flip_direction') if sample.metainfo.get('flip') else None
            image = self._load_image(img_path, flip)
            drawn = vis.draw_datasample(
                image, sample.cpu(), draw_gt=self.draw_gt, pred_score_thr=self.pred_score_thr
            )
            stem = f'{self._count:03d}_{osp.splitext(osp.basename(img_path))[0]}'
            step = 0 if self._mode == 'test' else runner.iter
            self._save(vis, drawn, self._eval_dir, stem, self._mode, step)
            self._count += 1

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Draw this batch's predictions while pictures are still wanted."""
        self._draw_outputs(runner, outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Draw this batch's predictions while pictures are still wanted."""
        self._draw_outputs(runner, outputs)

    def _end_eval(self, runner) -> None:
        """Log how many pictures this evaluation drew, and where."""
        if self._count and is_main_process():
            print_log(
                f'SAMVisualizationHook: {self._count} pictures in {self._eval_dir}',
                logger='current',
            )

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Log where this validation's pictures are."""
        self._end_eval(runner)

    def after_test_epoch(self, runner, metrics=None) -> None:
        """Log where this test's pictures are."""
        self._end_eval(runner)

    # ------------------------------------------------------------------ self-training
    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Ask the strategy to record pseudo masks every ``train_interval`` iterations."""
        if self.train_interval is None or not self.every_n_train_iters(runner, self.train_interval):
            return
        strategy = self._strategy(runner)
        if strategy is not None:
            strategy.visualize_next = True

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Draw the recorded teacher pseudo masks beside the student's prediction."""
        strategy = self._strategy(runner)
        record = getattr(strategy, 'last_visualization', None) if strategy is not None else None
        if not record:
            return
        strategy.last_visualization = None
        strategy.visualize_next = False
        if not is_main_process():
            return
        missing = [k for k in _RECORD_KEYS if k not in record]
        if missing:
            raise KeyError(
                f'SAMVisualizationHook: {type(strategy).__name__}.last_visualization '
                f'lacks {missing}'
            )
        vis = self._visualizer(runner)
        flip = record.get('flip_direction') if record.get('flip', True) else None
        image = self._load_image(record['img_path'], flip)
        drawn = vis.draw_pseudo_labels(image, record)
        it = runner.iter + 1
        folder = osp.join(runner.log_dir, self.out_dir, f'train_iter_{it}')
        stem = osp.splitext(osp.basename(record['img_path']))[0]
        self._save(vis, drawn, folder, stem, 'self_training', it)
