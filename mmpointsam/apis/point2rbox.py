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
from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import all_gather_object, barrier, get_dist_info
from mmengine.logging import MMLogger, print_log
from mmengine.registry import DefaultScope
from tqdm import tqdm

from mmpointsam.apis.unit_stream import ConversionUnits, unit_loader
from mmpointsam.apis.work_plan import image_weight, lpt_plan, plan_loads
from mmpointsam.datasets.point_labels import select_images
from mmpointsam.datasets.transforms.formatting import SAM_META_KEYS
from mmpointsam.fileio import RBoxLabelWriter, predictions_to_coco_anns
from mmpointsam.fileio.work_claims import WorkClaims
from mmpointsam.models.task_modules import MaskCandidates
from mmpointsam.models.utils import decode_per_image, low_res_to_original, pad_offset_of
from mmpointsam.registry import DATASETS, MODELS, TASK_UTILS
from mmpointsam.structures import RBOX_METHODS, mask_to_rbox, masks_to_rboxes
from mmpointsam.utils import set_sam_checkpoint
from mmpointsam.utils.model_checkpoint import load_model_checkpoint, weights_from_checkpoint

# meta keys the converter and RBoxDumpMetric need from PackSAMInputs
POINT_LABEL_META_KEYS = SAM_META_KEYS + ('file_name', 'instance_ids')


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
            self.bar = tqdm(
                total=total, desc=f'  {stage}', unit='prompt', leave=False, dynamic_ncols=True
            )
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
        mask_selector: a ``MaskSelector`` config: decode SAM's three masks per click (after NPC
            chose the prompts) and keep the one it scores best, flagging low scores. None:
            SAM's single-mask output (the default).
        patch: ``dict(size, overlap)``: an image with a side over ``size`` is converted in
            DOTA-style patches (MMRotate's split grid; 1024/200 by default, as its DOTA
            configs), each click decoded once, in the patch where it is farthest from the border,
            so memory is bounded by the patch; boxes are written in the scene frame. None:
            every image whole (resized to SAM's input size).
    """

    def __init__(
        self,
        model,
        method: str = 'largest',
        chunk: int = 16,
        description: str = '',
        mask_selector: Optional[dict] = None,
        patch: Optional[dict] = dict(size=1024, overlap=200),
    ) -> None:
        if method not in RBOX_METHODS:
            raise ValueError(f'unknown mask -> rbox method {method!r}; choose from {RBOX_METHODS}')
        self.model = model.eval()
        self.method = method
        self.chunk = chunk
        self.description = description
        self.settings = dict(method=method, weights=description)
        self.selector = None
        if mask_selector is not None:
            with DefaultScope.overwrite_default_scope('mmpointsam'):
                self.selector = TASK_UTILS.build(copy.deepcopy(mask_selector))
            self.settings['mask_selector'] = mask_selector
        self.class_names: Optional[list] = None  # set by convert, for class-aware scorers
        self.patch = (
            None if patch is None else dict(size=int(patch['size']), overlap=int(patch['overlap']))
        )
        self.settings['patch'] = self.patch
        # images with at least this many prompts get a bar over their prompts (convert)
        self.prompt_bar_min = 256
        self.show_prompt_bar = False

    @classmethod
    def from_config(
        cls,
        config: Union[str, Config],
        checkpoint: Optional[str] = None,
        sam_checkpoint: Optional[str] = None,
        npc_iou_thr: Optional[float] = 0.1,
        method: str = 'largest',
        device: str = 'cpu',
        seed: int = 0,
        npc_max_negatives: Optional[int] = 8,
        mask_selector: Optional[dict] = None,
        patch: Optional[dict] = dict(size=1024, overlap=200),
        cfg_options: Optional[dict] = None,
    ) -> 'Point2RBoxConverter':
        """Build the model of an mmpointsam config and load its weights.

        Args:
            config: a PointSAM config (file or ``Config``), e.g.
                ``configs/sam_direct/sam-direct_sam-vit-b_nwpu.py``.
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
        if checkpoint is not None:
            weights_from_checkpoint(cfg)  # it holds every weight: no SAM/prototype file read
        cfg.model.setdefault('test_cfg', {})
        if npc_iou_thr is None:
            cfg.model.test_cfg.pop('npc', None)
        else:
            cfg.model.test_cfg.npc = dict(
                type='NegativePromptCalibration',
                iou_thr=npc_iou_thr,
                max_negatives=npc_max_negatives,
            )
        torch.manual_seed(seed)
        with DefaultScope.overwrite_default_scope('mmpointsam'):
            model = MODELS.build(cfg.model)
        if checkpoint is None:
            with _quiet_init_log():
                model.init_weights()
        sam_init = cfg.model.sam.get('init_cfg') or {}
        if sam_init.get('type') == 'Pretrained':
            weights = f'SAM {cfg.model.sam.arch} from {sam_init["checkpoint"]}'
        else:
            weights = f'SAM {cfg.model.sam.arch} with RANDOM weights (seed {seed})'
        if checkpoint is not None:
            cls._load_pointsam(model, checkpoint)
            weights = f'PointSAM checkpoint {checkpoint} (SAM {cfg.model.sam.arch})'
        description = f'{weights}; NPC iou_thr={npc_iou_thr}'
        if npc_iou_thr is not None:
            description += f' max_negatives={npc_max_negatives}'
        converter = cls(
            model.to(device),
            method=method,
            description=description,
            mask_selector=mask_selector,
            patch=patch,
        )
        converter.settings.update(
            config=cfg.filename if isinstance(cfg.filename, str) else None,
            checkpoint=checkpoint,
            sam_checkpoint=sam_checkpoint,
            npc_iou_thr=npc_iou_thr,
            npc_max_negatives=npc_max_negatives,
            seed=seed,
            arch=cfg.model.sam.arch,
            img_size=cfg.model.sam.img_size,
        )
        return converter

    @staticmethod
    def _load_pointsam(model, checkpoint: str) -> None:
        """Load a trained PointSAM checkpoint strictly: every key of the model, and only those."""
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'PointSAM checkpoint not found: {checkpoint}')
        load_model_checkpoint(model, checkpoint)

    # ------------------------------------------------------------------ one image
    @torch.no_grad()
    def predict(self, data: dict) -> dict:
        """Rotated boxes of one packed sample (``inputs``, ``data_samples`` from the pipeline).

        Returns:
            dict of ``rboxes`` (N, 5) le90, ``valid`` (N,) (False: empty mask, no box),
            ``scores`` (N,), ``labels`` (N,), ``num_calibrated``, ``encoder_time`` and
            ``decoder_time`` (s, prompt decoding with NPC).
        """
        embeddings, samples, encoder_time = self.encode_batch([data])
        pred = self.decode_one(embeddings, samples[0])
        pred['encoder_time'] = encoder_time
        return pred

    @torch.no_grad()
    def encode_batch(self, datas: Sequence[dict]):
        """One image-encoder call for several packed samples (images or patches).

        Returns:
            The image embeddings (B, ...), the preprocessed data samples and the encoder's
            seconds.
        """
        model = self.model
        data = model.data_preprocessor(
            dict(
                inputs=[d['inputs'] for d in datas], data_samples=[d['data_samples'] for d in datas]
            ),
            False,
        )
        start = time.perf_counter()
        embeddings = model.sam.encode(data['inputs'])
        return embeddings, data['data_samples'], time.perf_counter() - start

    @torch.no_grad()
    def decode_one(self, embeddings: torch.Tensor, sample, encoder_time: float = 0.0) -> dict:
        """:meth:`predict` of one preprocessed sample from its embedding (1, ...)."""
        model = self.model
        prompts = model.collect_prompts([sample])
        start = time.perf_counter()
        bar = (
            _PromptBar()
            if (self.show_prompt_bar and prompts.batch_idx.numel() >= self.prompt_bar_min)
            else None
        )
        try:
            logits, scores, calibrated = model.decode_prompts(embeddings, prompts, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        if self.selector is not None:
            return self._predict_selected(embeddings, prompts, logits, sample, encoder_time, start)
        num_calibrated = int(calibrated.sum())
        decoder_time = time.perf_counter() - start
        rboxes, valid = [], []
        for start_idx in range(0, len(logits), self.chunk):
            masks = low_res_to_original(
                logits[start_idx : start_idx + self.chunk],
                sample.img_shape,
                sample.ori_shape,
                model.sam.img_size,
                pad_offset_of(sample),
            )
            boxes, ok = masks_to_rboxes(
                (masks > model.sam.mask_threshold).cpu().numpy(), self.method
            )
            rboxes.append(boxes)
            valid.append(ok)
        return dict(
            rboxes=np.concatenate(rboxes) if rboxes else np.zeros((0, 5)),
            valid=np.concatenate(valid) if valid else np.zeros(0, dtype=bool),
            scores=scores.float().cpu().numpy(),
            labels=sample.gt_instances.labels.cpu().numpy(),
            num_calibrated=num_calibrated,
            encoder_time=encoder_time,
            decoder_time=decoder_time,
        )

    def _predict_selected(
        self, embeddings, prompts, logits, sample, encoder_time: float, start: float
    ) -> dict:
        """:meth:`predict` with SAM's three masks per click and the selector's pick.

        NPC (when on) decides each click's prompts from the single-mask ``logits``; the final
        prompts are then decoded with three masks each, calibrated and plain ones apart (their
        padded widths differ, and padding tokens change SAM's answer).
        """
        model, sam = self.model, self.model.sam
        points, labels, batch_idx = prompts.points, prompts.labels, prompts.batch_idx
        groups = [(torch.arange(len(points), device=points.device), points, labels)]
        low = sam.low_res_size
        if model.test_npc is not None and len(points):
            rows, new_points, new_labels = model.test_npc.prompts_from_masks(
                logits > sam.mask_threshold, batch_idx, points, labels, sam.img_size / low
            )
            if rows.numel() and model.test_npc.min_kept is not None:
                # the calibrated single-mask answers decide, as in NPC's own call
                single, _ = decode_per_image(
                    sam, embeddings, batch_idx[rows], new_points, new_labels
                )
                keep = model.test_npc.keep_calibrated(
                    logits[rows] > sam.mask_threshold, single > sam.mask_threshold
                )
                rows, new_points, new_labels = rows[keep], new_points[keep], new_labels[keep]
            if rows.numel():
                plain = torch.ones(len(points), dtype=torch.bool, device=points.device)
                plain[rows] = False
                plain = plain.nonzero(as_tuple=True)[0]
                groups = [(plain, points[plain], labels[plain]), (rows, new_points, new_labels)]
        multi = logits.new_zeros((len(points), 3, low, low))
        multi_iou = logits.new_zeros((len(points), 3))
        for idx, pts, lbs in groups:
            if idx.numel():
                out_logits, out_iou = decode_per_image(
                    sam, embeddings, batch_idx[idx], pts, lbs, multimask_output=True, all_masks=True
                )
                multi[idx], multi_iou[idx] = out_logits, out_iou
        num_calibrated = len(points) - len(groups[0][0])
        decoder_time = time.perf_counter() - start

        gt = sample.gt_instances
        label_arr = gt.labels.cpu().numpy()
        gt_points = gt.points.cpu().numpy().reshape(len(label_arr), -1, 2)
        gt_plabels = (
            gt.point_labels.cpu().numpy().reshape(len(label_arr), -1)
            if 'point_labels' in gt
            else np.ones(gt_points.shape[:2], int)
        )
        num = len(points)
        rboxes, valid = np.zeros((num, 5)), np.zeros(num, dtype=bool)
        index, flagged, sel_scores = np.zeros(num, int), np.zeros(num, bool), np.zeros(num)
        chunk = max(1, self.chunk // 3)
        for s0 in range(0, num, chunk):
            part = multi[s0 : s0 + chunk]
            masks = low_res_to_original(
                part.flatten(0, 1),
                sample.img_shape,
                sample.ori_shape,
                sam.img_size,
                pad_offset_of(sample),
            )
            masks = (
                (masks > sam.mask_threshold).cpu().numpy().reshape(len(part), 3, *masks.shape[-2:])
            )
            for j, cand_masks in enumerate(masks):
                i = s0 + j
                click = (
                    gt_points[i][gt_plabels[i] == 1][0]
                    if (gt_plabels[i] == 1).any()
                    else gt_points[i][0]
                )
                name = (
                    self.class_names[label_arr[i]]
                    if self.class_names is not None
                    else str(label_arr[i])
                )
                cand = MaskCandidates(cand_masks, multi_iou[i].float().cpu().numpy(), click, name)
                best, score, flag = self.selector(cand)
                index[i], sel_scores[i], flagged[i] = best, score, flag
                rbox = mask_to_rbox(cand_masks[best], self.method)
                if rbox is not None and not (flag and self.selector.low_score == 'skip'):
                    rboxes[i], valid[i] = rbox, True
        return dict(
            rboxes=rboxes,
            valid=valid,
            scores=multi_iou[torch.arange(num), torch.as_tensor(index)].float().cpu().numpy(),
            labels=label_arr,
            num_calibrated=num_calibrated,
            encoder_time=encoder_time,
            decoder_time=decoder_time,
            mask_index=index,
            flagged=flagged,
            selection_scores=sel_scores,
        )

    # ------------------------------------------------------------------ a whole file
    def build_dataset(self, point_json: str, img_dir: str):
        """The ``PointLabelDataset`` of a point-label json with the converter's pipeline."""
        with DefaultScope.overwrite_default_scope('mmpointsam'):
            return DATASETS.build(
                dict(
                    type='PointLabelDataset',
                    ann_file=osp.abspath(point_json),
                    data_prefix=dict(img=img_dir),
                    pipeline=point_label_pipeline(),
                    test_mode=True,
                )
            )

    def convert(
        self,
        point_json: str,
        img_dir: str,
        out_dir: str,
        resume: bool = True,
        progress: bool = True,
        img_ids: Optional[Sequence[int]] = None,
        max_images: Optional[int] = None,
        batch_size: int = 1,
        num_workers: int = 0,
        claim_timeout: Optional[float] = 24 * 3600,
        on_image: Optional[Callable[[dict], None]] = None,
    ) -> dict:
        """Convert every image of a point-label json; write the labels to ``out_dir``.

        Outputs (see :class:`RBoxLabelWriter`): ``labels.json`` (COCO, 4-corner polygons) once
        all images are done, ``annfiles/<stem>.txt`` (DOTA). A rerun skips finished images.
        ``img_ids`` / ``max_images`` convert a subset of the json's images (``select_images``).

        Under torchrun (an initialised process group) every rank calls this alike: the pending
        images are shared by click count (:func:`lpt_plan`), a rank that finishes its share
        takes over images nobody has started, and rank 0 writes ``labels.json`` once all are
        done. Every image is claimed (:class:`WorkClaims`) before it is converted, so
        independent runs on one ``out_dir`` share the work too; the last to finish merges.

        Args:
            batch_size: images (or patches) per image-encoder call.
            num_workers: DataLoader workers decoding images and cutting patches (0: this
                process).
            claim_timeout: seconds after which another host's claim counts as abandoned.
            on_image: called with each finished image's COCO dict (after its files are
                written).

        Returns:
            A summary: images done now / skipped, boxes, empty masks (total and per class),
            calibrated instances, encoder and total seconds, images/s, output paths.
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        dataset = self.build_dataset(point_json, img_dir)
        categories = dataset.metainfo['categories']
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        if img_ids is not None or max_images is not None:
            keep = {
                img['id']
                for img in select_images(
                    [dict(id=d['img_id']) for d in infos], img_ids, max_images, point_json
                )
            }
            infos = [d for d in infos if d['img_id'] in keep]
        images = [
            dict(id=d['img_id'], file_name=d['file_name'], width=d['width'], height=d['height'])
            for d in infos
        ]
        settings = dict(
            self.settings, point_json=osp.abspath(point_json), point_json_sha1=_sha1(point_json)
        )
        if img_ids is not None or max_images is not None:
            settings.update(
                img_ids=None if img_ids is None else sorted(img_ids), max_images=max_images
            )
        rank, world_size = get_dist_info()
        writer = _open_writer(out_dir, images, categories, settings, resume, rank, world_size)
        claims = WorkClaims(osp.join(writer.progress_dir, CLAIM_DIR), stale_after=claim_timeout)
        pending = {img['id'] for img in writer.pending()}
        skipped = len(images) - len(pending)
        if skipped and rank == 0:
            print_log(
                f'point2rbox: resuming in {out_dir}: {skipped} of {len(images)} images are '
                'done already and skipped',
                logger='current',
            )
        weights = {
            d['img_id']: image_weight(d, self.patch) for d in infos if d['img_id'] in pending
        }
        plan = lpt_plan(weights, world_size)
        if world_size > 1 and rank == 0:
            print_log(
                f'point2rbox: {len(pending)} images on {world_size} processes, work per process '
                f'(clicks + encoder passes) {plan_loads(plan, weights)}',
                logger='current',
            )
        # this rank's share first, then the others' from their light ends (taken only if
        # nobody has claimed them when this rank gets there)
        order = plan[rank] + [
            i for r in range(1, world_size) for i in reversed(plan[(rank + r) % world_size])
        ]
        index = {dataset.get_data_info(i)['img_id']: i for i in range(len(dataset))}
        units = ConversionUnits(
            dataset,
            [index[i] for i in order],
            self.patch,
            point_json,
            skip=lambda i: writer.is_done(i) or claims.held_by_others(i),
        )
        self.show_prompt_bar = progress and rank == 0
        self.class_names = [c['name'] for c in categories]
        run = _ConversionRun(
            self, writer, claims, infos, categories, len(plan[rank]), progress and rank == 0
        )
        run.on_image = on_image
        try:
            run.consume(unit_loader(units, num_workers), batch_size)
        finally:
            run.close()
        if world_size > 1:
            barrier()  # every rank of this run has finished: rank 0 merges
            run.gather()  # every rank's counts, for rank 0's summary
        result = self._merge(writer, claims) if rank == 0 else None
        summary = run.summary(images, skipped, result, rank, world_size)
        print_log(format_summary(summary), logger='current')
        return summary

    @staticmethod
    def _merge(writer: RBoxLabelWriter, claims: WorkClaims) -> Optional[dict]:
        """Write ``labels.json`` when every image is done and no other process is writing it."""
        if writer.pending() or not claims.claim(MERGE_KEY):
            return None
        try:
            return writer.finalize(
                info=dict(
                    description='rotated-box pseudo labels from point labels '
                    '(mmpointsam point2rbox)'
                )
            )
        finally:
            claims.release(MERGE_KEY)

    @staticmethod
    def _count_selection(
        pred: dict, ids, anns: list, categories: list, mask_wins: dict, flagged_per_class: Counter
    ) -> None:
        """Tally the selector's picks per class; mark flagged boxes (``"flagged": true``)."""
        flagged_ids = set()
        for label, k, flag, ann_id in zip(pred['labels'], pred['mask_index'], pred['flagged'], ids):
            name = categories[int(label)]['name']
            mask_wins.setdefault(name, [0, 0, 0])[int(k)] += 1
            if flag:
                flagged_per_class[name] += 1
                flagged_ids.add(int(ann_id))
        for ann in anns:
            if ann['id'] in flagged_ids:
                ann['flagged'] = True


CLAIM_DIR = 'claims'  # under the writer's .progress folder
MERGE_KEY = 'labels_json'  # the claim of writing labels.json


def _open_writer(out_dir, images, categories, settings, resume, rank, world_size):
    """The label writer of every rank; with ``resume=False`` rank 0 clears the folder first."""
    if world_size == 1:
        return RBoxLabelWriter(out_dir, images, categories, settings, resume=resume)
    writer = None
    if rank == 0:
        writer = RBoxLabelWriter(out_dir, images, categories, settings, resume=resume)
    barrier()  # the folder is cleared and the settings recorded before the others look
    if rank != 0:
        writer = RBoxLabelWriter(out_dir, images, categories, settings, resume=True)
    return writer


class _ConversionRun:
    """The loop of :meth:`Point2RBoxConverter.convert` over streamed units: claims each image,
    encodes units in batches, decodes each unit's prompts, writes each image once all its units
    are decoded, and keeps the counts of the summary."""

    def __init__(self, converter, writer, claims, infos, categories, share, progress) -> None:
        self.conv, self.writer, self.claims = converter, writer, claims
        self.categories = categories
        self.infos = {d['img_id']: d for d in infos}
        self.on_image = None
        self.totals = Counter()
        self.empty_per_class = Counter()
        self.mask_wins, self.flagged_per_class = {}, Counter()
        self.open = {}  # image id -> the units decoded so far
        self.refused = set()  # images another process holds or finished
        self.bar = tqdm(
            total=share, unit='img', desc='point2rbox', disable=not progress, dynamic_ncols=True
        )

    def consume(self, loader, batch_size: int) -> None:
        """Convert every unit the loader yields."""
        start = time.perf_counter()
        batch = []
        for unit in loader:
            img_id = unit['img_id']
            if unit['unit'] == 0 and not self._take(img_id):
                self.refused.add(img_id)
            if img_id in self.refused:
                continue
            if unit['unit'] == 0:
                self.open[img_id] = dict(preds=[None] * unit['num_units'], left=unit['num_units'])
            if unit['data'] is None:
                self._finish(img_id, None)
                continue
            batch.append(unit)
            if len(batch) == batch_size:
                self._encode(batch)
                batch = []
        if batch:
            self._encode(batch)
        self.totals['time'] += time.perf_counter() - start

    def _take(self, img_id: int) -> bool:
        """Claim an image; False when another process holds it or it is done already."""
        if not self.claims.claim(img_id):
            return False
        if self.writer.is_done(img_id):  # finished by another process since the plan
            self.claims.release(img_id)
            return False
        return True

    def _encode(self, batch: list) -> None:
        """One encoder call for the batch, then each unit's prompts."""
        conv = self.conv
        embeddings, samples, encoder_time = conv.encode_batch([u['data'] for u in batch])
        self.totals['encoder_time'] += encoder_time
        self.totals['patches'] += len(batch)
        for i, (unit, sample) in enumerate(zip(batch, samples)):
            pred = conv.decode_one(embeddings[i : i + 1], sample)
            if unit['num_units'] > 1 or unit['offset'] != (0, 0):  # a patch: to the scene frame
                pred['rboxes'] = np.asarray(pred['rboxes'], dtype=np.float64).copy()
                pred['rboxes'][pred['valid'], :2] += unit['offset']
            pred['ids'] = np.asarray(unit['instance_ids'])
            state = self.open[unit['img_id']]
            state['preds'][unit['unit']] = pred
            state['left'] -= 1
            if state['left'] == 0:
                self._finish(unit['img_id'], state['preds'])

    def _finish(self, img_id: int, preds: Optional[list]) -> None:
        """Write one image's labels and release its claim."""
        info = self.infos[img_id]
        img = dict(
            id=img_id, file_name=info['file_name'], width=info['width'], height=info['height']
        )
        anns, empty = [], []
        if preds:
            pred = _merge_units(preds)
            anns, empty = predictions_to_coco_anns(
                img_id,
                pred['rboxes'],
                pred['valid'],
                pred['labels'],
                pred['scores'],
                pred['ids'],
                self.categories,
            )
            difficult = {i['ann_id']: i['difficult'] for i in info['instances'] if 'difficult' in i}
            for ann in anns:  # DOTA's flag of the point label travels to the box
                if ann['id'] in difficult:
                    ann['difficult'] = difficult[ann['id']]
            self.totals['decoder_time'] += pred['decoder_time']
            self.totals['calibrated'] += pred['num_calibrated']
            self.totals['encoded'] += 1
            if 'mask_index' in pred:
                self.conv._count_selection(
                    pred, pred['ids'], anns, self.categories, self.mask_wins, self.flagged_per_class
                )
        self.writer.write_image(img, anns, empty)
        self.claims.release(img_id)
        self.open.pop(img_id, None)
        self.totals['converted'] += 1
        self.totals['boxes'] += len(anns)
        self.totals['empty'] += len(empty)
        names = {c['id']: c['name'] for c in self.categories}
        self.empty_per_class.update(names[e['category_id']] for e in empty)
        self.bar.update(1)
        self.bar.set_postfix(boxes=self.totals['boxes'], empty=self.totals['empty'], refresh=False)
        if self.on_image is not None:
            self.on_image(img)

    def close(self) -> None:
        """Close the bar and drop the claims of images left unfinished (an error)."""
        self.bar.close()
        for img_id in list(self.open):
            self.claims.release(img_id)

    def gather(self) -> None:
        """Replace this rank's counts by those of all ranks (times: the slowest rank's loop)."""
        parts = all_gather_object(
            dict(
                totals=dict(self.totals),
                empty=dict(self.empty_per_class),
                wins=self.mask_wins,
                flagged=dict(self.flagged_per_class),
            )
        )
        self.per_rank = [
            (p['totals'].get('converted', 0), p['totals'].get('time', 0.0)) for p in parts
        ]
        self.totals, self.empty_per_class = Counter(), Counter()
        self.mask_wins, self.flagged_per_class = {}, Counter()
        for p in parts:
            self.totals.update({k: v for k, v in p['totals'].items() if k != 'time'})
            self.empty_per_class.update(p['empty'])
            self.flagged_per_class.update(p['flagged'])
            for name, wins in p['wins'].items():
                mine = self.mask_wins.setdefault(name, [0, 0, 0])
                self.mask_wins[name] = [a + b for a, b in zip(mine, wins)]
        self.totals['time'] = max(t for _, t in self.per_rank)

    def summary(self, images, skipped, result, rank, world_size) -> dict:
        """The summary dict of :meth:`Point2RBoxConverter.convert`."""
        t, conv = self.totals, self.conv
        done = t['converted']
        summary = dict(
            images=len(images),
            converted=done,
            skipped=skipped,
            encoded=t['encoded'],
            boxes_now=t['boxes'],
            empty_now=t['empty'],
            empty_per_class=dict(self.empty_per_class),
            calibrated=t['calibrated'],
            boxes_total=None if result is None else result['num_boxes'],
            empty_total=None if result is None else result['num_empty'],
            encoder_s=t['encoder_time'],
            decoder_s=t['decoder_time'],
            total_s=t['time'],
            images_per_s=done / t['time'] if done and t['time'] else float('nan'),
            json=None if result is None else result['json'],
            dota_dir=self.writer.dota_dir,
            weights=conv.description,
            patches=t['patches'],
            rank=rank,
            world_size=world_size,
            pending=len(self.writer.pending()),
            per_rank=getattr(self, 'per_rank', None),
        )
        if conv.selector is not None:
            summary.update(
                mask_wins=self.mask_wins,
                flagged_per_class=dict(self.flagged_per_class),
                flagged=sum(self.flagged_per_class.values()),
                low_score=conv.selector.low_score,
            )
        return summary


def _merge_units(preds: list) -> dict:
    """The predictions of an image's units (patches) as one: rows concatenated, times summed."""
    if len(preds) == 1:
        return preds[0]
    merged = {
        key: (
            sum(p[key] for p in preds)
            if key in ('encoder_time', 'decoder_time', 'num_calibrated')
            else np.concatenate([p[key] for p in preds])
        )
        for key in preds[0]
    }
    merged['num_patches'] = len(preds)
    return merged


def format_rate(images_per_s: float) -> str:
    """A conversion rate that stays readable for slow images: images/s from 1 image/s up,
    images/h below (never '0.00 images/s')."""
    if not images_per_s == images_per_s:  # nan: nothing converted
        return 'no image converted'
    if images_per_s >= 1:
        return f'{images_per_s:.2f} images/s'
    return f'{images_per_s * 3600:.3g} images/h'


def format_summary(s: dict) -> str:
    """A few lines saying what a conversion did."""
    per_img = s['total_s'] / s['converted'] if s['converted'] else float('nan')
    enc = s['encoder_s'] / s['encoded'] if s['encoded'] else float('nan')
    dec = s['decoder_s'] / s['encoded'] if s['encoded'] else float('nan')
    who = f'{s["world_size"]} processes: ' if s.get('world_size', 1) > 1 else ''
    if s['json'] is not None:
        written = (
            f'  boxes: {s["boxes_total"]} in {s["json"]}; empty masks (no box): {s["empty_total"]}'
        )
    elif s.get('pending'):
        written = (
            f'  {s["pending"]} images not done yet (held by other processes, or failed): '
            f'labels.json is written when they are'
        )
    else:
        written = '  labels.json is written by another process (rank 0 or the last run to finish)'
    lines = [
        f'point2rbox: {who}{s["converted"]} images converted, {s["skipped"]} skipped (done '
        f'before), {s["images"]} in all; weights: {s["weights"]}',
        written + (f', this run by class {s["empty_per_class"]}' if s['empty_per_class'] else ''),
        f'  NPC re-decoded {s["calibrated"]} instances; {format_rate(s["images_per_s"])} '
        f'({per_img:.3f} s/img: encoder {enc:.3f} s, rest {per_img - enc:.3f} s of which '
        f'prompt decoding + NPC {dec:.3f} s)',
    ]
    if s.get('per_rank'):
        lines.append(
            '  per process (rank: images in loop seconds): '
            + ', '.join(f'{r}: {n} in {t:.1f} s' for r, (n, t) in enumerate(s['per_rank']))
        )
    if 'mask_wins' in s:
        wins = ', '.join(f'{name} {w}' for name, w in sorted(s['mask_wins'].items()))
        lines.append(
            f'  mask selection (this run): wins of SAM masks [0, 1, 2] by class: {wins}; '
            f'flagged ({s["low_score"]}): {s["flagged"]}'
            + (f' {s["flagged_per_class"]}' if s['flagged_per_class'] else '')
        )
    return '\n'.join(lines)


def point2rbox(
    config: Union[str, Config],
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
    max_images: Optional[int] = None,
    batch_size: int = 1,
    num_workers: int = 0,
    claim_timeout: Optional[float] = 24 * 3600,
    on_image: Optional[Callable[[dict], None]] = None,
) -> dict:
    """Convert point labels to rotated-box labels in one call (see
    :meth:`Point2RBoxConverter.from_config` and :meth:`Point2RBoxConverter.convert`)."""
    converter = Point2RBoxConverter.from_config(
        config,
        checkpoint=checkpoint,
        sam_checkpoint=sam_checkpoint,
        npc_iou_thr=npc_iou_thr,
        method=method,
        device=device,
        seed=seed,
        cfg_options=cfg_options,
        npc_max_negatives=npc_max_negatives,
    )
    return converter.convert(
        point_json,
        img_dir,
        out_dir,
        resume=resume,
        progress=progress,
        img_ids=img_ids,
        max_images=max_images,
        batch_size=batch_size,
        num_workers=num_workers,
        claim_timeout=claim_timeout,
        on_image=on_image,
    )
