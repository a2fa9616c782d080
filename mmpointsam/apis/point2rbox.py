"""Point labels -> rotated-box pseudo labels with a point-prompted SAM (or a trained PointSAM).

Per image: one image-encoder pass, every point prompt decoded in one batched call, Negative Prompt
Calibration of overlapping instances, masks at the original size -> le90 min-area rectangles.
Each box keeps its point's class and annotation id; its score is SAM's predicted IoU. Instances
whose mask is empty get no box and are counted.
"""
import contextlib
import copy
import hashlib
import logging
import os.path as osp
import time
from collections import Counter
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger, print_log
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from tqdm import tqdm

from mmpointsam.datasets.point_labels import select_images
from mmpointsam.fileio import RBoxLabelWriter, predictions_to_coco_anns
from mmpointsam.models.utils import low_res_to_original
from mmpointsam.registry import DATASETS, MODELS
from mmpointsam.structures import RBOX_METHODS, masks_to_rboxes
from mmpointsam.utils import set_sam_checkpoint

# meta keys the converter and RBoxDumpMetric need from PackSAMInputs
POINT_LABEL_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'flip',
                         'flip_direction', 'height', 'width', 'file_name', 'instance_ids')


def point_label_pipeline() -> list:
    """Load the image and the annotated point prompts (no masks)."""
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPointLabels'),
        dict(type='PackSAMInputs', meta_keys=POINT_LABEL_META_KEYS),
    ]


@contextlib.contextmanager
def _quiet_init_log():
    """Hide MMEngine's per-parameter INFO lines of ``init_weights`` (warnings still show)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class _PromptBar:
    """A transient tqdm bar over one dense image's prompts: decoding, then NPC re-decoding."""

    def __init__(self) -> None:
        self.bar, self.stage = None, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.bar = tqdm(total=total, desc=f'  {stage}', unit='prompt', leave=False,
                            dynamic_ncols=True)
            self.stage = stage
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.stage = None, None


def _sha1(path: str) -> str:
    digest = hashlib.sha1()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


class Point2RBoxConverter:
    """Turn point prompts into rotated boxes with a :class:`PointSAM` model.

    Args:
        model: a built ``PointSAM`` with its weights; its ``test_npc`` (from
            ``test_cfg.npc``) calibrates overlapping instances when set.
        method: mask -> rbox: ``'largest'`` connected component or ``'all'`` pixels.
        chunk: masks upsampled to the original size at a time (memory bound).
        description: how the weights were obtained, recorded with the labels.
    """

    def __init__(self, model, method: str = 'largest', chunk: int = 16,
                 description: str = '') -> None:
        if method not in RBOX_METHODS:
            raise ValueError(f'unknown mask -> rbox method {method!r}; choose from {RBOX_METHODS}')
        self.model = model.eval()
        self.method = method
        self.chunk = chunk
        self.description = description
        self.settings = dict(method=method, weights=description)
        # images with at least this many prompts get a bar over their prompts (convert)
        self.prompt_bar_min = 256
        self.show_prompt_bar = False

    @classmethod
    def from_config(cls,
                    config: Union[str, Config],
                    checkpoint: Optional[str] = None,
                    sam_checkpoint: Optional[str] = None,
                    npc_iou_thr: Optional[float] = 0.1,
                    method: str = 'largest',
                    device: str = 'cpu',
                    seed: int = 0,
                    npc_max_negatives: Optional[int] = 8,
                    cfg_options: Optional[dict] = None) -> 'Point2RBoxConverter':
        """Build the model of an mmpointsam config and load its weights.

        Args:
            config: a PointSAM config (file or ``Config``), e.g. ``configs/sam_direct_nwpu.py``.
            checkpoint: a checkpoint saved by ``tools/train.py`` (a trained PointSAM); loaded
                over the SAM weights.
            sam_checkpoint: official SAM/MobileSAM weights for ``model.sam``; ``'none'`` means
                random weights. None keeps the config's ``init_cfg``.
            npc_iou_thr: IoU above which two instances' masks are calibrated (NPC); None: off.
            npc_max_negatives: at most this many negatives per calibrated instance, from the
                most-overlapping ones (keeps dense scenes linear); None: all (the paper's NPC).
            seed: torch seed before building, so random weights are the same on every run.
        """
        cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if sam_checkpoint is not None:
            set_sam_checkpoint(cfg, sam_checkpoint)
        cfg.model.setdefault('test_cfg', {})
        if npc_iou_thr is None:
            cfg.model.test_cfg.pop('npc', None)
        else:
            cfg.model.test_cfg.npc = dict(type='NegativePromptCalibration', iou_thr=npc_iou_thr,
                                          max_negatives=npc_max_negatives)
        torch.manual_seed(seed)
        with DefaultScope.overwrite_default_scope('mmpointsam'):
            model = MODELS.build(cfg.model)
        with _quiet_init_log():
            model.init_weights()
        sam_init = cfg.model.sam.get('init_cfg') or {}
        if sam_init.get('type') == 'Pretrained':
            weights = f'SAM {cfg.model.sam.arch} from {sam_init["checkpoint"]}'
        else:
            weights = f'SAM {cfg.model.sam.arch} with RANDOM weights (seed {seed})'
        if checkpoint is not None:
            cls._load_pointsam(model, checkpoint)
            weights = f'PointSAM checkpoint {checkpoint} (on {weights})'
        description = f'{weights}; NPC iou_thr={npc_iou_thr}'
        if npc_iou_thr is not None:
            description += f' max_negatives={npc_max_negatives}'
        converter = cls(model.to(device), method=method, description=description)
        converter.settings.update(
            config=cfg.filename if isinstance(cfg.filename, str) else None,
            checkpoint=checkpoint, sam_checkpoint=sam_checkpoint, npc_iou_thr=npc_iou_thr,
            npc_max_negatives=npc_max_negatives, seed=seed, arch=cfg.model.sam.arch, img_size=cfg.model.sam.img_size)
        return converter

    @staticmethod
    def _load_pointsam(model, checkpoint: str) -> None:
        """Load a trained PointSAM checkpoint; every ``sam.`` parameter must be in it."""
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'PointSAM checkpoint not found: {checkpoint}')
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=False,
                               logger='current')
        state = ckpt.get('state_dict', ckpt)
        missing = [k for k in model.state_dict() if k.startswith('sam.') and k not in state]
        if missing:
            raise RuntimeError(f'{checkpoint} is not a PointSAM checkpoint of this config: '
                               f'{len(missing)} SAM weights missing, e.g. {missing[:3]}')

    # ------------------------------------------------------------------ one image
    @torch.no_grad()
    def predict(self, data: dict) -> dict:
        """Rotated boxes of one packed sample (``inputs``, ``data_samples`` from the pipeline).

        Returns:
            dict of ``rboxes`` (N, 5) le90, ``valid`` (N,) (False: empty mask, no box),
            ``scores`` (N,), ``labels`` (N,), ``num_calibrated``, ``encoder_time`` and
            ``decoder_time`` (s, prompt decoding with NPC).
        """
        model = self.model
        data = model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
        samples = data['data_samples']
        prompts = model.collect_prompts(samples)
        start = time.perf_counter()
        embeddings = model.sam.encode(data['inputs'])
        encoder_time = time.perf_counter() - start
        start = time.perf_counter()
        bar = _PromptBar() if (self.show_prompt_bar and
                               prompts.batch_idx.numel() >= self.prompt_bar_min) else None
        try:
            logits, scores, calibrated = model.decode_prompts(embeddings, prompts, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        num_calibrated = int(calibrated.sum())
        decoder_time = time.perf_counter() - start
        sample = samples[0]
        rboxes, valid = [], []
        for start_idx in range(0, len(logits), self.chunk):
            masks = low_res_to_original(logits[start_idx:start_idx + self.chunk],
                                        sample.img_shape, sample.ori_shape, model.sam.img_size)
            boxes, ok = masks_to_rboxes((masks > model.sam.mask_threshold).cpu().numpy(),
                                        self.method)
            rboxes.append(boxes)
            valid.append(ok)
        return dict(
            rboxes=np.concatenate(rboxes) if rboxes else np.zeros((0, 5)),
            valid=np.concatenate(valid) if valid else np.zeros(0, dtype=bool),
            scores=scores.float().cpu().numpy(),
            labels=sample.gt_instances.labels.cpu().numpy(),
            num_calibrated=num_calibrated,
            encoder_time=encoder_time,
            decoder_time=decoder_time)

    # ------------------------------------------------------------------ a whole file
    def build_dataset(self, point_json: str, img_dir: str):
        with DefaultScope.overwrite_default_scope('mmpointsam'):
            return DATASETS.build(
                dict(type='PointLabelDataset', ann_file=osp.abspath(point_json),
                     data_prefix=dict(img=img_dir), pipeline=point_label_pipeline(),
                     test_mode=True))

    def convert(self, point_json: str, img_dir: str, out_dir: str, resume: bool = True,
                progress: bool = True, img_ids: Optional[Sequence[int]] = None,
                max_images: Optional[int] = None) -> dict:
        """Convert every image of a point-label json; write the labels to ``out_dir``.

        Outputs (see :class:`RBoxLabelWriter`): ``labels.json`` (COCO, 4-corner polygons) once
        all images are done, ``annfiles/<stem>.txt`` (DOTA). A rerun skips finished images.
        ``img_ids`` / ``max_images`` convert a subset of the json's images (``select_images``).

        Returns:
            A summary: images done now / skipped, boxes, empty masks (total and per class),
            calibrated instances, encoder and total seconds, images/s, output paths.
        """
        dataset = self.build_dataset(point_json, img_dir)
        categories = dataset.metainfo['categories']
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        if img_ids is not None or max_images is not None:
            keep = {img['id'] for img in select_images(
                [dict(id=d['img_id']) for d in infos], img_ids, max_images, point_json)}
            infos = [d for d in infos if d['img_id'] in keep]
        images = [dict(id=d['img_id'], file_name=d['file_name'], width=d['width'],
                       height=d['height']) for d in infos]
        settings = dict(self.settings, point_json=osp.abspath(point_json),
                        point_json_sha1=_sha1(point_json))
        if img_ids is not None or max_images is not None:
            settings.update(img_ids=None if img_ids is None else sorted(img_ids),
                            max_images=max_images)
        writer = RBoxLabelWriter(out_dir, images, categories, settings, resume=resume)
        pending = {img['id'] for img in writer.pending()}
        skipped = len(images) - len(pending)
        if skipped:
            print_log(f'point2rbox: resuming in {out_dir}: {skipped} of {len(images)} images are '
                      'done already and skipped', logger='current')
        self.show_prompt_bar = progress
        totals = Counter()
        empty_per_class = Counter()
        bar = tqdm(total=len(pending), unit='img', desc='point2rbox', disable=not progress,
                   dynamic_ncols=True)
        index = {dataset.get_data_info(i)['img_id']: i for i in range(len(dataset))}
        for img, info in zip(images, infos):
            if img['id'] not in pending:
                continue
            start = time.perf_counter()
            anns, empty = [], []
            if info['instances']:
                data = dataset[index[img['id']]]
                self._check_size(data['data_samples'], img, point_json)
                pred = self.predict(data)
                ids = data['data_samples'].metainfo['instance_ids']
                anns, empty = predictions_to_coco_anns(img['id'], pred['rboxes'], pred['valid'],
                                                       pred['labels'], pred['scores'], ids,
                                                       categories)
                totals['encoder_time'] += pred['encoder_time']
                totals['decoder_time'] += pred['decoder_time']
                totals['calibrated'] += pred['num_calibrated']
                totals['encoded'] += 1
            writer.write_image(img, anns, empty)
            totals['time'] += time.perf_counter() - start
            totals['boxes'] += len(anns)
            totals['empty'] += len(empty)
            empty_per_class.update(c['name'] for e in empty for c in categories
                                   if c['id'] == e['category_id'])
            bar.update(1)
            bar.set_postfix(boxes=totals['boxes'], empty=totals['empty'], refresh=False)
        bar.close()
        result = writer.finalize(info=dict(
            description='rotated-box pseudo labels from point labels (mmpointsam point2rbox)'))
        done = len(pending)
        summary = dict(
            images=len(images), converted=done, skipped=skipped, encoded=totals['encoded'],
            boxes_now=totals['boxes'], empty_now=totals['empty'],
            empty_per_class=dict(empty_per_class), calibrated=totals['calibrated'],
            boxes_total=result['num_boxes'], empty_total=result['num_empty'],
            encoder_s=totals['encoder_time'], decoder_s=totals['decoder_time'],
            total_s=totals['time'],
            images_per_s=done / totals['time'] if totals['time'] else float('nan'),
            json=result['json'], dota_dir=result['dota_dir'], weights=self.description)
        print_log(format_summary(summary), logger='current')
        return summary

    @staticmethod
    def _check_size(sample, img: dict, point_json: str) -> None:
        actual = tuple(sample.ori_shape[:2])
        if actual != (img['height'], img['width']):
            raise ValueError(f'{point_json}: image {img["file_name"]} is {actual[1]}x{actual[0]} '
                             f'(w x h) but the json declares {img["width"]}x{img["height"]}')


def format_summary(s: dict) -> str:
    """A few lines saying what a conversion did."""
    per_img = s['total_s'] / s['converted'] if s['converted'] else float('nan')
    enc = s['encoder_s'] / s['encoded'] if s['encoded'] else float('nan')
    dec = s['decoder_s'] / s['encoded'] if s['encoded'] else float('nan')
    lines = [
        f'point2rbox: {s["converted"]} images converted, {s["skipped"]} skipped (done before), '
        f'{s["images"]} in all; weights: {s["weights"]}',
        f'  boxes: {s["boxes_total"]} in {s["json"]}; empty masks (no box): {s["empty_total"]}'
        + (f', this run by class {s["empty_per_class"]}' if s['empty_per_class'] else ''),
        f'  NPC re-decoded {s["calibrated"]} instances; {s["images_per_s"]:.2f} images/s '
        f'({per_img:.3f} s/img: encoder {enc:.3f} s, rest {per_img - enc:.3f} s of which '
        f'prompt decoding + NPC {dec:.3f} s)',
    ]
    return '\n'.join(lines)


def point2rbox(config: Union[str, Config],
               point_json: str,
               img_dir: str,
               out_dir: str,
               checkpoint: Optional[str] = None,
               sam_checkpoint: Optional[str] = None,
               method: str = 'largest',
               npc_iou_thr: Optional[float] = 0.1,
               device: str = 'cpu',
               resume: bool = True,
               seed: int = 0,
               progress: bool = True,
               cfg_options: Optional[dict] = None,
               npc_max_negatives: Optional[int] = 8,
               img_ids: Optional[Sequence[int]] = None,
               max_images: Optional[int] = None) -> dict:
    """Convert point labels to rotated-box labels in one call (see
    :meth:`Point2RBoxConverter.from_config` and :meth:`Point2RBoxConverter.convert`)."""
    converter = Point2RBoxConverter.from_config(
        config, checkpoint=checkpoint, sam_checkpoint=sam_checkpoint, npc_iou_thr=npc_iou_thr,
        method=method, device=device, seed=seed, cfg_options=cfg_options,
        npc_max_negatives=npc_max_negatives)
    return converter.convert(point_json, img_dir, out_dir, resume=resume, progress=progress,
                             img_ids=img_ids, max_images=max_images)
