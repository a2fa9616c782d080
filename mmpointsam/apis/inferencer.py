"""Masks, scores and le90 rotated boxes from clicks on one image, in the manner of mmdet's
``DetInferencer``: build once from a config + checkpoint (or a plain SAM/MobileSAM file), then
call on images.

    inferencer = PointSAMInferencer(
        'configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu-clicks.py', 'work_dirs/x/epoch_10.pth'
    )
    result = inferencer('scene.png', points=[[512, 300], [900, 1200]])
    result.rboxes, result.scores, result.rles()

Large scenes are not shrunk: windows of ``window_size`` pixels (``window_overlap`` apart) are cut
at native resolution around the clicks, each click is decoded in the window where it lies
deepest, and the results come back in the scene frame. Each window is read from a scene source
(:mod:`.scene_source`): a GeoTIFF / COG / VRT is read window by window, so memory follows the
window size and the objects' sizes, never the scene's (masks are kept cropped to their own
bounding boxes); a PNG/JPEG is decoded whole. Click layers in map coordinates (GeoPackage,
GeoJSON, Shapefile, CSV, a GeoDataFrame) go through :mod:`mmpointsam.geo`.
"""

import copy
import logging
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger, print_log
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from mmpointsam.models.sam.sam2 import checkpoint_arch as sam2_checkpoint_arch
from mmpointsam.models.utils import low_res_to_original, pad_offset_of
from mmpointsam.registry import MODELS, TRANSFORMS
from mmpointsam.structures import RBOX_METHODS, masks_to_rboxes, rbox_to_corners
from mmpointsam.utils import set_sam_checkpoint

from .scene_source import open_scene

# embedding width of a plain SAM file's patch embedding -> arch preset
_ARCH_BY_WIDTH = {768: 'vit_b', 1024: 'vit_l', 1280: 'vit_h', 64: 'tiny'}


@dataclass
class ClickPrediction:
    """Results of one image, one entry per prompt (a positive click, or a group of points).

    ``masks[i]`` is a bool array cropped to the mask's bounding box, its top-left pixel at
    ``offsets[i]`` (x, y) of the scene (an empty mask is (0, 0) at its click); ``rboxes`` (N, 5)
    le90 (cx, cy, w, h, angle in radians) in scene pixels, ``valid[i]`` False for an empty mask
    (its row is zeros); ``windows`` (K, 4) x0, y0, x1, y1 of the windows that were run and
    ``window_index`` (N,) the window of each prompt.
    """

    image_shape: Tuple[int, int]
    masks: List[np.ndarray]
    offsets: np.ndarray
    scores: np.ndarray
    rboxes: np.ndarray
    valid: np.ndarray
    points: np.ndarray
    point_labels: np.ndarray
    windows: np.ndarray
    window_index: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.masks)

    def full_masks(self) -> np.ndarray:
        """Masks pasted into the scene, (N, H, W) bool (N x H x W bytes: small scenes only)."""
        out = np.zeros((len(self),) + tuple(self.image_shape), dtype=bool)
        for i, (mask, (x, y)) in enumerate(zip(self.masks, self.offsets)):
            out[i, y : y + mask.shape[0], x : x + mask.shape[1]] = mask
        return out

    def label_map(self) -> np.ndarray:
        """(H, W) int32: 0 background, i + 1 where prompt i's mask is; higher scores on top."""
        out = np.zeros(self.image_shape, dtype=np.int32)
        for i in np.argsort(self.scores, kind='stable'):
            mask, (x, y) = self.masks[i], self.offsets[i]
            region = out[y : y + mask.shape[0], x : x + mask.shape[1]]
            region[mask] = i + 1
        return out

    def rles(self) -> List[dict]:
        """COCO RLEs (``size`` [H, W], ``counts`` str) in the scene frame, built column strip by
        column strip so that no scene-sized mask is ever made."""
        height, width = self.image_shape
        out = []
        for mask, (x, y) in zip(self.masks, self.offsets):
            strip = np.zeros((height, mask.shape[1]), dtype=bool)
            strip[y : y + mask.shape[0]] = mask
            flat = strip.ravel(order='F')
            if flat.size:
                change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
                runs = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
                if flat[0]:
                    runs = [0] + runs
            else:
                runs = [0]
            runs[0] += int(x) * height
            tail = (width - int(x) - mask.shape[1]) * height
            if len(runs) % 2:  # ends with a background run
                runs[-1] += tail
            elif tail:
                runs.append(tail)
            rle = mask_utils.frPyObjects(dict(size=[height, width], counts=runs), height, width)
            rle['counts'] = rle['counts'].decode('ascii')
            out.append(rle)
        return out

    def rbox_corners(self) -> np.ndarray:
        """(N, 4, 2) corners of the rotated boxes (zeros for empty masks)."""
        return rbox_to_corners(self.rboxes) if len(self) else np.zeros((0, 4, 2))


def plan_windows(
    height: int, width: int, anchors: np.ndarray, size: int, overlap: int
) -> Tuple[np.ndarray, np.ndarray]:
    """Windows (K, 4) x0, y0, x1, y1 of a ``size`` grid with ``overlap`` that hold the anchors
    (N, 2) xy, and for each anchor the window in which it is farthest from the border. A scene
    no larger than one window is one window."""
    if height <= size and width <= size:
        return np.array([[0, 0, width, height]]), np.zeros(len(anchors), dtype=np.int64)
    if not 0 <= overlap < size:
        raise ValueError(f'window_overlap must be in [0, window_size={size}), got {overlap}')
    stride = size - overlap

    def starts(length: int) -> List[int]:
        if length <= size:
            return [0]
        return list(range(0, length - size, stride)) + [length - size]

    grid = np.array(
        [
            [x, y, min(x + size, width), min(y + size, height)]
            for y in starts(height)
            for x in starts(width)
        ]
    )
    ax, ay = anchors[:, 0:1], anchors[:, 1:2]
    depth = np.minimum.reduce(
        [ax - grid[:, 0], grid[:, 2] - 1 - ax, ay - grid[:, 1], grid[:, 3] - 1 - ay]
    )  # (N, K)
    best = depth.argmax(axis=1) if len(anchors) else np.zeros(0, dtype=np.int64)
    used, window_index = np.unique(best, return_inverse=True)
    return grid[used], window_index.reshape(-1)


def group_prompts(points, labels=None) -> Tuple[np.ndarray, np.ndarray]:
    """Clicks -> prompts (N, P, 2) and labels (N, P) (1, 0, -1 padding).

    (K, 2) clicks with (K,) labels: every positive click is one object; the negative clicks
    (label 0) are added to every prompt (clicks on background). (N, P, 2) with (N, P): explicit
    groups, one prompt each.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.ndim == 2 and points.shape[1] == 2:
        labels = np.ones(len(points), np.int64) if labels is None else np.asarray(labels, np.int64)
        if labels.shape != (len(points),):
            raise ValueError(f'{len(points)} clicks but labels of shape {labels.shape}')
        pos, neg = points[labels == 1], points[labels == 0]
        prompts = np.concatenate(
            [pos[:, None], np.broadcast_to(neg, (len(pos),) + neg.shape)], axis=1
        )
        plabels = np.concatenate(
            [np.ones((len(pos), 1), np.int64), np.zeros((len(pos), len(neg)), np.int64)], axis=1
        )
    elif points.ndim == 3 and points.shape[2] == 2:
        plabels = (
            np.ones(points.shape[:2], np.int64) if labels is None else np.asarray(labels, np.int64)
        )
        if plabels.shape != points.shape[:2]:
            raise ValueError(f'prompts of shape {points.shape} but labels of shape {plabels.shape}')
        prompts = points
    else:
        raise ValueError(f'points must be (K, 2) clicks or (N, P, 2) prompts, got {points.shape}')
    if not np.isin(plabels, (-1, 0, 1)).all():
        raise ValueError('point labels must be 1 (positive), 0 (negative) or -1 (padding)')
    if len(plabels) and not (plabels == 1).any(axis=1).all():
        raise ValueError('every prompt needs a positive point (label 1)')
    return np.ascontiguousarray(prompts), np.ascontiguousarray(plabels)


def add_click_negatives(
    prompts: np.ndarray, labels: np.ndarray, anchors: np.ndarray, k: int
) -> Tuple[np.ndarray, np.ndarray]:
    """Append to each prompt the ``k`` positive points of the other prompts nearest to its
    anchor, as negatives (label 0)."""
    owner = np.repeat(np.arange(len(prompts)), prompts.shape[1])
    flat, flat_labels = prompts.reshape(-1, 2), labels.reshape(-1)
    keep = flat_labels == 1
    owner, flat = owner[keep], flat[keep]
    extra = np.zeros((len(prompts), k, 2), np.float32)
    extra_labels = np.full((len(prompts), k), -1, np.int64)
    for i, anchor in enumerate(anchors):
        others = flat[owner != i]
        nearest = others[np.argsort(((others - anchor) ** 2).sum(1), kind='stable')[:k]]
        extra[i, : len(nearest)] = nearest
        extra_labels[i, : len(nearest)] = 0
    return (
        np.concatenate([prompts, extra], axis=1),
        np.concatenate([labels, extra_labels], axis=1),
    )


def _sam_arch_of(checkpoint: str) -> str:
    """The arch preset of a plain SAM/MobileSAM file, read from its weights."""
    state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if any(k.startswith('image_encoder.layers.') for k in state):
        return 'vit_t'
    sam2_arch = sam2_checkpoint_arch(state)
    if sam2_arch is not None:
        return sam2_arch
    weight = state.get('image_encoder.patch_embed.proj.weight')
    if weight is None or weight.shape[0] not in _ARCH_BY_WIDTH:
        raise ValueError(
            f'{checkpoint}: not a SAM/MobileSAM checkpoint (no known image '
            'encoder); pass a config or arch='
        )
    return _ARCH_BY_WIDTH[weight.shape[0]]


def plain_sam_config(arch: str, img_size: int = 1024, checkpoint: Optional[str] = None) -> Config:
    """A PointSAM config around a plain SAM (no LoRA, no self-training)."""
    init = dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None
    return Config(
        dict(
            model=dict(
                type='PointSAM',
                data_preprocessor=dict(type='SAMDataPreprocessor', img_size=img_size),
                sam=dict(
                    type='SAM2' if arch.startswith('hiera_') else 'SAM',
                    arch=arch,
                    img_size=img_size,
                    init_cfg=init,
                ),
                test_cfg=dict(multimask_output=False),
            )
        )
    )


class PointSAMInferencer:
    """Point-prompted SAM (or trained PointSAM) inference on whole images of any size.

    Args:
        config: an mmpointsam config (path or ``Config``). Without it, ``checkpoint`` must be a
            plain SAM/MobileSAM file (arch read from it) or an MMEngine checkpoint that stores
            its config; with neither, ``arch`` builds a SAM with random weights.
        checkpoint: a ``tools/train.py`` checkpoint (loaded over the model), or a plain SAM file.
        sam_checkpoint: official SAM weights for a config's ``model.sam`` (``'none'``: random).
        window_size, window_overlap: native-resolution windows for scenes larger than one
            window (the model resizes each window to its ``img_size``).
        rbox_method: mask -> rbox, ``'largest'`` connected component or ``'all'`` pixels.
        npc_iou_thr: calibrate overlapping prompts with NPC at this IoU (None: the config's).
        chunk: masks upsampled to window size at a time.
        click_negatives: add to each prompt this many negatives, the nearest positive clicks of
            the other prompts: the prompt shape that the ``-clicks`` configs train with (one
            negative from another object, drawn at random there). 0 keeps the prompts as given.
    """

    def __init__(
        self,
        config: Union[str, Config, None] = None,
        checkpoint: Optional[str] = None,
        sam_checkpoint: Optional[str] = None,
        arch: Optional[str] = None,
        img_size: int = 1024,
        device: Optional[str] = None,
        window_size: int = 1024,
        window_overlap: int = 256,
        rbox_method: str = 'largest',
        npc_iou_thr: Optional[float] = None,
        chunk: int = 16,
        click_negatives: int = 0,
        cfg_options: Optional[dict] = None,
        seed: int = 0,
    ) -> None:
        if rbox_method not in RBOX_METHODS:
            raise ValueError(f'unknown rbox_method {rbox_method!r}; choose from {RBOX_METHODS}')
        if window_size < 16:
            raise ValueError(f'window_size must be >= 16, got {window_size}')
        self.window_size, self.window_overlap = int(window_size), int(window_overlap)
        self.rbox_method, self.chunk = rbox_method, chunk
        self.click_negatives = int(click_negatives)
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        cfg, load_over = self._resolve_config(config, checkpoint, sam_checkpoint, arch, img_size)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        cfg.model.pop('self_training', None)  # inference only
        cfg.model.setdefault('test_cfg', {})
        if npc_iou_thr is not None:
            cfg.model.test_cfg.npc = dict(type='NegativePromptCalibration', iou_thr=npc_iou_thr)
        self.cfg = cfg
        torch.manual_seed(seed)
        with DefaultScope.overwrite_default_scope('mmpointsam'):
            self.model = MODELS.build(cfg.model)
            self.pack = TRANSFORMS.build(
                dict(
                    type='PackSAMInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape')
                )
            )
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # MMEngine's per-parameter init lines
        try:
            self.model.init_weights()
        finally:
            logger.setLevel(level)
        if load_over is not None:
            self._load_trained(load_over)
        self.model.to(self.device).eval()

    # ------------------------------------------------------------------ building
    @staticmethod
    def _resolve_config(config, checkpoint, sam_checkpoint, arch, img_size):
        """(config, trained checkpoint to load over the model or None)."""
        if config is not None:
            cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
            if sam_checkpoint is not None:
                set_sam_checkpoint(cfg, sam_checkpoint)
            elif checkpoint is not None:
                # a trained checkpoint holds every SAM weight: the official file is not needed
                cfg.model.sam.init_cfg = None
            return cfg, checkpoint
        if checkpoint is None:
            if arch is None:
                raise ValueError('give a config, a checkpoint or an arch (random weights)')
            print_log(
                f'PointSAMInferencer: SAM {arch} with RANDOM weights',
                logger='current',
                level=logging.WARNING,
            )
            return plain_sam_config(arch, img_size), None
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
        if any(k.startswith('sam.') for k in state):  # a tools/train.py checkpoint
            text = (ckpt.get('meta') or {}).get('cfg')
            if not text:
                raise ValueError(
                    f'{checkpoint} is a trained PointSAM checkpoint without its '
                    'config: pass the config too'
                )
            cfg = Config.fromstring(text, '.py')
            cfg.model.sam.init_cfg = None
            return cfg, checkpoint
        return plain_sam_config(arch or _sam_arch_of(checkpoint), img_size, checkpoint), None

    def _load_trained(self, checkpoint: str) -> None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        ckpt = load_checkpoint(
            self.model, checkpoint, map_location='cpu', strict=False, logger='current'
        )
        state = ckpt.get('state_dict', ckpt)
        missing = [k for k in self.model.state_dict() if k.startswith('sam.') and k not in state]
        if missing:
            raise RuntimeError(
                f'{checkpoint} is not a PointSAM checkpoint of this config: '
                f'{len(missing)} SAM weights missing, e.g. {missing[:3]}'
            )

    # ------------------------------------------------------------------ inference
    def _pack_window(self, crop: np.ndarray, points: np.ndarray, labels: np.ndarray) -> dict:
        """One window and its prompts (crop pixels) packed as the model's pipeline would."""
        h, w = crop.shape[:2]
        return self.pack(
            dict(
                img=crop,
                img_shape=(h, w),
                ori_shape=(h, w),
                img_id=0,
                img_path='window',
                gt_points=points,
                gt_point_labels=labels,
                gt_bboxes_labels=np.zeros(len(points), np.int64),
            )
        )

    @torch.no_grad()
    def _encode(self, packed: List[dict]):
        """One image-encoder call for several packed windows: (embeddings, samples)."""
        model = self.model
        data = model.data_preprocessor(
            dict(
                inputs=[p['inputs'] for p in packed],
                data_samples=[p['data_samples'] for p in packed],
            ),
            False,
        )
        return model.sam.encode(data['inputs']), data['data_samples']

    @torch.no_grad()
    def _decode_window(self, embeddings: torch.Tensor, sample):
        """Low-res decode of one window's prompts from its embedding (1, ...) -> masks at crop
        size, ``chunk`` at a time, with their scores."""
        model = self.model
        prompts = model.collect_prompts([sample])
        logits, scores, _ = model.decode_prompts(embeddings, prompts)
        for start in range(0, len(logits), self.chunk):
            masks = low_res_to_original(
                logits[start : start + self.chunk],
                sample.img_shape,
                sample.ori_shape,
                model.sam.img_size,
                pad_offset_of(sample),
            )
            yield (
                (masks > model.sam.mask_threshold).cpu().numpy(),
                scores[start : start + self.chunk].float().cpu().numpy(),
            )

    def _run_window(self, crop: np.ndarray, points: np.ndarray, labels: np.ndarray):
        """Low-res decode of prompts (in crop pixels) on one crop -> masks at crop size."""
        embeddings, samples = self._encode([self._pack_window(crop, points, labels)])
        yield from self._decode_window(embeddings, samples[0])

    def __call__(
        self, image, points, labels=None, click_negatives: Optional[int] = None, **geo
    ) -> ClickPrediction:
        """Predict one mask (and rbox) per prompt.

        Args:
            image: a path (a GDAL raster such as a GeoTIFF is read window by window), an
                (H, W, 3) uint8 BGR array (as ``cv2.imread`` gives) or a ``SceneSource``.
            points: (K, 2) clicks x, y in pixels (each positive click is one object, negative
                clicks go to every prompt) or (N, P, 2) explicit prompts; or a click layer in
                map coordinates (a vector file path or a GeoDataFrame) on a georeferenced
                raster: see :func:`mmpointsam.geo.predict_geo_clicks`, which gets ``geo``.
            labels: (K,) or (N, P): 1 positive (default), 0 negative, -1 padding.
            click_negatives: overrides the inferencer's ``click_negatives`` for this call.
        """
        if isinstance(points, (str, os.PathLike)) or hasattr(points, 'geometry'):
            from mmpointsam.geo import predict_geo_clicks

            return predict_geo_clicks(self, image, points, **geo)
        if geo:
            raise TypeError(f'{sorted(geo)} apply to click layers (map coordinates) only')
        job = self._plan(image, points, labels, click_negatives)
        for k, idx, local, llabels in job.windows_to_run():
            crop = job.source.read(tuple(int(v) for v in job.windows[k]))
            job.store(k, idx, self._run_window(crop, local, llabels), self.rbox_method)
        return job.result()

    def predict_many(
        self,
        images: Sequence,
        points: Sequence,
        labels: Optional[Sequence] = None,
        batch_size: int = 4,
        num_workers: int = 0,
        click_negatives: Optional[int] = None,
    ) -> List[ClickPrediction]:
        """:meth:`__call__` on many images, ``batch_size`` windows (of any images) per
        image-encoder call, the windows read and packed in ``num_workers`` DataLoader workers.

        Each window's prompts are decoded on their own, so the results are those of one call
        per image (up to the encoder's rounding with other batch sizes). Workers read windows
        from in-memory or decoded images; keep ``num_workers=0`` for GDAL rasters (their
        handles do not survive a fork).
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if len(points) != len(images) or (labels is not None and len(labels) != len(images)):
            raise ValueError('give one points (and labels) entry per image')
        jobs = [
            self._plan(img, pts, None if labels is None else labels[i], click_negatives)
            for i, (img, pts) in enumerate(zip(images, points))
        ]
        loader = DataLoader(
            _WindowStream(self, jobs), batch_size=None, num_workers=num_workers, collate_fn=_as_is
        )
        batch = []
        for item in loader:
            batch.append(item)
            if len(batch) == batch_size:
                self._run_batch(jobs, batch)
                batch = []
        if batch:
            self._run_batch(jobs, batch)
        return [job.result() for job in jobs]

    def _run_batch(self, jobs: list, batch: list) -> None:
        """Encode a batch of packed windows once, then decode and store each."""
        embeddings, samples = self._encode([item['packed'] for item in batch])
        for i, (item, sample) in enumerate(zip(batch, samples)):
            chunks = self._decode_window(embeddings[i : i + 1], sample)
            jobs[item['job']].store(item['window'], item['idx'], chunks, self.rbox_method)

    def _plan(self, image, points, labels, click_negatives) -> '_ImageJob':
        """Check the prompts of one image and plan its windows."""
        source = open_scene(image)
        where = source.path
        height, width = source.shape
        click_negatives = self.click_negatives if click_negatives is None else click_negatives
        prompts, plabels = group_prompts(points, labels)
        real = plabels >= 0
        # written as "not inside" so that a NaN coordinate counts as outside too
        inside = (
            (prompts[..., 0] >= 0)
            & (prompts[..., 0] < width)
            & (prompts[..., 1] >= 0)
            & (prompts[..., 1] < height)
        )
        outside = real & ~inside
        if outside.any():
            i, j = np.argwhere(outside)[0]
            raise ValueError(
                f'{where}: click {prompts[i, j].tolist()} of prompt {i} is outside '
                f'the {width}x{height} image'
            )
        meta = dict(
            img_path=where, window_size=self.window_size, window_overlap=self.window_overlap
        )
        if len(prompts) == 0:  # no positive click: nothing to segment
            return _ImageJob(
                source,
                prompts,
                plabels,
                np.zeros((0, 2)),
                np.zeros((0, 4), np.int64),
                np.zeros(0, np.int64),
                meta,
                self.window_size,
            )
        pos = plabels == 1
        anchors = (prompts * pos[..., None]).sum(1) / np.maximum(pos.sum(1, keepdims=True), 1)
        if click_negatives and len(prompts) > 1:
            prompts, plabels = add_click_negatives(prompts, plabels, anchors, click_negatives)
        windows, window_index = plan_windows(
            height, width, anchors, self.window_size, self.window_overlap
        )
        return _ImageJob(
            source, prompts, plabels, anchors, windows, window_index, meta, self.window_size
        )


class _ImageJob:
    """One image of the inferencer: its prompts, windows and the results filled window by
    window."""

    def __init__(self, source, prompts, plabels, anchors, windows, window_index, meta, size):
        self.source, self.prompts, self.plabels = source, prompts, plabels
        self.anchors, self.windows, self.window_index = anchors, windows, window_index
        self.meta, self.window_size = meta, size
        num = len(prompts)
        self.masks: List[Optional[np.ndarray]] = [None] * num
        self.offsets = np.zeros((num, 2), np.int64)
        self.scores = np.zeros(num, np.float32)
        self.rboxes = np.zeros((num, 5), np.float64)
        self.valid = np.zeros(num, dtype=bool)

    def windows_to_run(self):
        """(window k, prompt rows, prompts in window pixels, their labels) per window."""
        for k, (x0, y0, x1, y1) in enumerate(self.windows):
            idx = np.flatnonzero(self.window_index == k)
            local = self.prompts[idx] - np.array([x0, y0], np.float32)
            llabels = self.plabels[idx].copy()
            llabels[
                (local[..., 0] < 0)
                | (local[..., 0] >= x1 - x0)
                | (local[..., 1] < 0)
                | (local[..., 1] >= y1 - y0)
            ] = -1  # points beyond this window
            lost = ~(llabels == 1).any(axis=1)
            if lost.any():
                raise ValueError(
                    f'{self.meta["img_path"]}: the positive clicks of prompt {idx[lost][0]} span '
                    f'more than one window (window_size={self.window_size})'
                )
            yield k, idx, local, llabels

    def store(self, k: int, idx: np.ndarray, chunks, rbox_method: str) -> None:
        """Keep the masks (cropped to their boxes), scores and rboxes of window ``k``."""
        x0, y0 = (int(v) for v in self.windows[k][:2])
        done = 0
        for chunk_masks, chunk_scores in chunks:
            boxes, ok = masks_to_rboxes(chunk_masks, rbox_method)
            for m, box, good, score in zip(chunk_masks, boxes, ok, chunk_scores):
                i = idx[done]
                done += 1
                self.scores[i] = score
                if good:
                    ys, xs = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
                    self.masks[i] = m[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1].copy()
                    self.offsets[i] = (x0 + xs[0], y0 + ys[0])
                    self.rboxes[i] = box + np.array([x0, y0, 0, 0, 0])
                    self.valid[i] = True
                else:
                    self.masks[i] = np.zeros((0, 0), dtype=bool)
                    self.offsets[i] = np.floor(self.anchors[i]).astype(np.int64)

    def result(self) -> ClickPrediction:
        """The image's :class:`ClickPrediction`."""
        return ClickPrediction(
            image_shape=tuple(self.source.shape),
            masks=self.masks,
            offsets=self.offsets,
            scores=self.scores,
            rboxes=self.rboxes,
            valid=self.valid,
            points=self.prompts,
            point_labels=self.plabels,
            windows=self.windows,
            window_index=self.window_index,
            meta=dict(self.meta),
        )


class _WindowStream(IterableDataset):
    """The windows of several images read and packed in order (image ``i`` by worker
    ``i % num_workers``); items: ``job``, ``window``, ``idx`` and ``packed``."""

    def __init__(self, inferencer: 'PointSAMInferencer', jobs: list) -> None:
        self.inferencer, self.jobs = inferencer, jobs

    def __iter__(self):
        worker = get_worker_info()
        wid, num = (0, 1) if worker is None else (worker.id, worker.num_workers)
        for j, job in enumerate(self.jobs):
            if j % num != wid:
                continue
            for k, idx, local, llabels in job.windows_to_run():
                crop = job.source.read(tuple(int(v) for v in job.windows[k]))
                packed = self.inferencer._pack_window(crop, local, llabels)
                yield dict(job=j, window=k, idx=idx, packed=packed)


def _as_is(item):
    """No collation: the item as the dataset made it."""
    return item
