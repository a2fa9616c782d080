"""Quality of rotated-box labels against ground-truth rotated boxes: per-class mean rotated IoU,
fractions above IoU thresholds, and MMRotate's rotated mAP of the labels taken as detections."""

import contextlib
from collections import OrderedDict
from typing import Dict, List, Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from mmpointsam.fileio import load_rbox_coco
from mmpointsam.structures import norm_le90, rbox_iou
from mmpointsam.utils.input_checks import FaultReport, check_rbox_json


class _SerialPool:
    """In-process stand-in for ``multiprocessing.Pool`` (``starmap``/``close``)."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def starmap(self, fn, iterable):
        """Call ``fn`` on each argument tuple in this process."""
        return [fn(*args) for args in iterable]

    def close(self) -> None:
        """Nothing to release."""
        pass


class _SerialContext:
    """A stand-in for ``multiprocessing.get_context()`` whose Pool is serial."""

    Pool = _SerialPool


def _exact_box_iou_rotated(bboxes1, bboxes2, mode='iou', aligned=False, clockwise=True):
    """Drop-in for ``mmcv.ops.box_iou_rotated`` (IoU mode) computed by :func:`rbox_iou`."""
    if mode != 'iou' or not clockwise:
        raise NotImplementedError("only clockwise IoU, as MMRotate's mAP uses")
    ious = rbox_iou(
        bboxes1[:, :5].double().numpy(), bboxes2[:, :5].double().numpy(), aligned=aligned
    )
    return torch.from_numpy(ious).float()


@contextlib.contextmanager
def _serial_map_eval(exact_iou: bool = False):
    """Run ``eval_rbbox_map`` in this process (its spawn pool re-imports torch/mmcv per call,
    seconds, and re-runs unguarded ``__main__`` scripts); with ``exact_iou`` its rotated IoU is
    :func:`rbox_iou` instead of mmcv's ``box_iou_rotated``."""
    from mmrotate.evaluation.functional import mean_ap

    originals = dict(get_context=mean_ap.get_context, box_iou_rotated=mean_ap.box_iou_rotated)
    mean_ap.get_context = lambda method=None: _SerialContext
    if exact_iou:
        mean_ap.box_iou_rotated = _exact_box_iou_rotated
    try:
        yield mean_ap.eval_rbbox_map
    finally:
        for name, value in originals.items():
            setattr(mean_ap, name, value)


def rotated_map(
    dets: List[List[np.ndarray]],
    gts: List[dict],
    iou_thr: float = 0.5,
    use_07_metric: bool = True,
    exact_iou: bool = True,
):
    """MMRotate's ``eval_rbbox_map`` (rbox mode), both sides normalised to le90 first.

    mmcv's ``box_iou_rotated`` (inside it) can score one box given in two parametrisations far
    below 1, so both sides share the le90 parametrisation; even so it misjudges some pairs with
    (nearly) collinear edges (one of the 11779 NWPU val pairs of mask- and polygon-made GT boxes:
    0.29 for a true 0.90), so by default the exact :func:`rbox_iou` replaces it
    (``exact_iou=False``: MMRotate as shipped).

    Args:
        dets: per image, per class arrays (K, 6) ``cx, cy, w, h, angle, score``.
        gts: per image ``dict(bboxes=(N, 5), labels=(N,))``.

    Returns:
        mAP and MMRotate's per-class results (``ap``, ``num_gts``, ``num_dets``, ...).
    """
    dets = [
        [
            np.concatenate([norm_le90(d[:, :5]), d[:, 5:]], axis=1).astype(np.float32)
            if len(d)
            else np.zeros((0, 6), np.float32)
            for d in per_img
        ]
        for per_img in dets
    ]
    annotations = [
        dict(
            bboxes=norm_le90(g['bboxes']).astype(np.float32).reshape(-1, 5),
            labels=np.asarray(g['labels'], dtype=np.int64),
            bboxes_ignore=np.zeros((0, 5), np.float32),
            labels_ignore=np.zeros(0, dtype=np.int64),
        )
        for g in gts
    ]
    with _serial_map_eval(exact_iou) as eval_rbbox_map:
        return eval_rbbox_map(
            dets,
            annotations,
            iou_thr=iou_thr,
            use_07_metric=use_07_metric,
            box_type='rbox',
            logger='silent',
            nproc=1,
        )


def _match_by_iou(pseudo: dict, gt: dict) -> np.ndarray:
    """Index of the pseudo box matched to each GT box (-1: none): one-to-one within a class,
    maximising total IoU (for label files that do not keep the GT annotation ids)."""
    match = np.full(len(gt['ids']), -1, dtype=np.int64)
    for cat in np.unique(gt['category_ids']):
        gi = np.flatnonzero(gt['category_ids'] == cat)
        pi = np.flatnonzero(pseudo['category_ids'] == cat)
        if not len(pi):
            continue
        iou = rbox_iou(gt['rboxes'][gi], pseudo['rboxes'][pi])
        rows, cols = linear_sum_assignment(-iou)
        keep = iou[rows, cols] > 0
        match[gi[rows[keep]]] = pi[cols[keep]]
    return match


# COCO's size buckets by the ground-truth box's area: small < 32^2 <= medium < 96^2 <= large
SIZE_BUCKETS = ('small', 'medium', 'large')


def size_bucket(areas: np.ndarray) -> np.ndarray:
    """COCO size bucket name of each area (px^2): small < 32^2, medium < 96^2, else large."""
    areas = np.asarray(areas, dtype=np.float64)
    return np.where(areas < 32**2, 'small', np.where(areas < 96**2, 'medium', 'large'))


def _load_label_pair(pseudo_json: str, gt_json: str):
    """Both files, checked whole (every fault at once), and GT category id -> class index; the
    labels may name no class and no image that the ground truth lacks."""
    report = FaultReport()
    check_rbox_json(report, pseudo_json)
    check_rbox_json(report, gt_json)
    report.raise_if_any()
    pseudo, gt = load_rbox_coco(pseudo_json), load_rbox_coco(gt_json)
    cat2label = {c['id']: i for i, c in enumerate(gt['categories'])}
    unknown = {c['id'] for c in pseudo['categories']} - set(cat2label)
    if unknown:
        raise ValueError(f'{pseudo_json}: category ids {sorted(unknown)} are not in {gt_json}')
    extra = set(pseudo['boxes']) - set(gt['boxes'])
    if extra:
        raise ValueError(
            f'{pseudo_json}: {len(extra)} image ids are not in {gt_json} (e.g. {sorted(extra)[:3]})'
        )
    return pseudo, gt, cat2label


def _pairs_by_id(pseudo: dict, gt: dict) -> bool:
    """True when the labels keep the GT annotation ids (then pairs are made by id)."""
    gt_ids = np.concatenate([b['ids'] for b in gt['boxes'].values()] + [np.zeros(0, np.int64)])
    ps_ids = np.concatenate([b['ids'] for b in pseudo['boxes'].values()] + [np.zeros(0, np.int64)])
    return len(ps_ids) == 0 or bool(np.isin(ps_ids, gt_ids).any())


_NO_BOXES = dict(
    rboxes=np.zeros((0, 5)),
    category_ids=np.zeros(0, np.int64),
    scores=np.zeros(0),
    ids=np.zeros(0, np.int64),
)


def _pair_instances(pseudo: dict, gt: dict, cat2label: dict, by_id: bool) -> dict:
    """Per GT instance: IoU with its label (0 without one), class index, missing flag, box area;
    and per image, the labels as MMRotate detections and the GT as its annotations."""
    ious, labels, missing, areas = [], [], [], []
    dets, gts = [], []
    num_classes = len(gt['categories'])
    for img_id, g in gt['boxes'].items():
        p = pseudo['boxes'].get(img_id, _NO_BOXES)
        if by_id:
            index = {int(i): k for k, i in enumerate(p['ids'])}
            match = np.array([index.get(int(i), -1) for i in g['ids']], dtype=np.int64)
        else:
            match = _match_by_iou(p, g)
        found = match >= 0
        iou = np.zeros(len(match))
        if found.any():
            iou[found] = rbox_iou(g['rboxes'][found], p['rboxes'][match[found]], aligned=True)
        ious.append(iou)
        labels.append(np.array([cat2label[c] for c in g['category_ids']], dtype=np.int64))
        missing.append(~found)
        areas.append(g['rboxes'][:, 2] * g['rboxes'][:, 3])
        p_labels = np.array([cat2label[c] for c in p['category_ids']], dtype=np.int64)
        dets.append(
            [
                np.concatenate(
                    [p['rboxes'][p_labels == k], p['scores'][p_labels == k, None]], axis=1
                )
                for k in range(num_classes)
            ]
        )
        gts.append(dict(bboxes=g['rboxes'], labels=labels[-1]))
    ious, labels, missing, areas = (
        np.concatenate(x) if x else np.zeros(0) for x in (ious, labels, missing, areas)
    )
    return dict(
        ious=ious, labels=labels, missing=missing.astype(bool), areas=areas, dets=dets, gts=gts
    )


def _quality_row(
    name: str, keep: np.ndarray, num_labels: int, ap: float, pairs: dict, iou_thrs: Sequence[float]
) -> Dict:
    """One table row over the GT instances ``keep`` selects."""
    ious, missing = pairs['ious'], pairs['missing']
    out = OrderedDict(
        [
            ('class', name),
            ('gts', int(keep.sum())),
            ('labels', num_labels),
            ('missing', int(missing[keep].sum())),
            ('mIoU', float(ious[keep].mean()) if keep.any() else float('nan')),
        ]
    )
    for t in iou_thrs:
        out[f'IoU>={t:g}'] = float((ious[keep] >= t).mean()) if keep.any() else float('nan')
    out['AP'] = ap
    return out


def _class_rows(
    pairs: dict, categories: List[dict], mean_ap: float, per_class: list, iou_thrs
) -> List[Dict]:
    """One row per class with instances, then ``all`` (instance means, mAP over classes)."""
    labels = pairs['labels']
    rows = []
    for k, cat in enumerate(categories):
        keep = labels == k
        if not keep.any():
            continue
        num_labels = int(per_class[k]['num_dets']) if per_class else 0
        ap = float(per_class[k]['ap'])
        rows.append(_quality_row(cat['name'], keep, num_labels, ap, pairs, iou_thrs))
    everything = np.ones(len(labels), dtype=bool)
    num_labels = sum(r['labels'] for r in rows)
    rows.append(_quality_row('all', everything, num_labels, float(mean_ap), pairs, iou_thrs))
    return rows


def _size_rows(pairs: dict, categories: List[dict], iou_thrs) -> List[Dict]:
    """The rows without labels and AP, per class and ``all``, by the GT box's size bucket."""
    labels, size = pairs['labels'], size_bucket(pairs['areas'])
    rows = []
    for k, cat in [(k, c['name']) for k, c in enumerate(categories)] + [(None, 'all')]:
        for name in SIZE_BUCKETS:
            keep = (size == name) & ((labels == k) if k is not None else True)
            if keep.any():
                row = _quality_row(cat, keep, 0, float('nan'), pairs, iou_thrs)
                rows.append(OrderedDict([('class', cat), ('size', name)] + list(row.items())[1:-1]))
                del rows[-1]['labels']
    return rows


def rbox_label_quality(
    pseudo_json: str,
    gt_json: str,
    iou_thrs: Sequence[float] = (0.5, 0.75),
    map_iou_thr: float = 0.5,
    use_07_metric: bool = True,
    exact_iou: bool = True,
) -> dict:
    """Compare rotated-box labels with ground-truth rotated boxes (both COCO, 4-corner polygons).

    Each GT instance is paired with the label of the same annotation id (labels made from points
    sampled from that instance keep its id); without common ids, one-to-one by IoU within a class.
    A GT instance without a label (e.g. an empty mask) counts as IoU 0. IoUs are exact polygon
    IoUs (:func:`rbox_iou`); the mAP is MMRotate's, labels as detections scored by ``score``.

    Returns:
        dict with ``rows`` (one per class, then ``all``: ``class``, ``gts``, ``labels``,
        ``missing``, ``mIoU``, ``IoU>=t`` per threshold, ``AP``), ``size_rows`` (the same
        without labels and AP, per class and ``all`` by the GT box's size: :func:`size_bucket`),
        ``mAP``, ``pairing`` and ``num_images``.
    """
    pseudo, gt, cat2label = _load_label_pair(pseudo_json, gt_json)
    by_id = _pairs_by_id(pseudo, gt)
    pairs = _pair_instances(pseudo, gt, cat2label, by_id)
    mean_ap, per_class = (
        rotated_map(
            pairs['dets'],
            pairs['gts'],
            iou_thr=map_iou_thr,
            use_07_metric=use_07_metric,
            exact_iou=exact_iou,
        )
        if pairs['gts']
        else (0.0, [])
    )
    categories = gt['categories']
    return dict(
        rows=_class_rows(pairs, categories, mean_ap, per_class, iou_thrs),
        size_rows=_size_rows(pairs, categories, iou_thrs),
        mAP=float(mean_ap),
        map_iou_thr=map_iou_thr,
        pairing='annotation id' if by_id else 'one-to-one by IoU',
        num_images=len(gt['boxes']),
    )


def format_quality_table(result: dict) -> str:
    """The quality rows as a text table (``all``: instance means, mAP over classes)."""
    from terminaltables import AsciiTable

    rows = result['rows']
    if not rows:
        return '(no ground-truth boxes)'
    header = list(rows[0].keys())
    header[-1] = f'AP{int(result["map_iou_thr"] * 100)}'
    body = [
        [r['class'], str(r['gts']), str(r['labels']), str(r['missing'])]
        + [f'{v:.4f}' for v in list(r.values())[4:]]
        for r in rows
    ]
    table = AsciiTable([header] + body)
    table.inner_footing_row_border = True
    return table.table


def format_size_table(result: dict) -> str:
    """The per-size rows (small < 32^2, medium < 96^2, large; GT box area) as a text table."""
    from terminaltables import AsciiTable

    rows = result.get('size_rows') or []
    if not rows:
        return '(no ground-truth boxes)'
    body = [
        [r['class'], r['size'], str(r['gts']), str(r['missing'])]
        + [f'{v:.4f}' for v in list(r.values())[4:]]
        for r in rows
    ]
    return AsciiTable([list(rows[0].keys())] + body).table
