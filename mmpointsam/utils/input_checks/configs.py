"""Config-level checks: every input a config (and a tool's arguments) reads, and ``--resume``."""

import os.path as osp
from typing import List, Optional, Sequence

from .annotations import check_coco_json, check_dota_dir, check_point_json
from .checkpoints import check_checkpoint
from .report import FaultReport, InputError


def dataset_inputs(cfg, splits: Sequence[str]) -> List[dict]:
    """The annotation files and image folders of a config's datasets (``<split>_dataloader``),
    with the paths MMEngine's ``BaseDataset`` makes of ``data_root``, ``ann_file`` and
    ``data_prefix``. Wrappers (``dataset``/``datasets``) are looked through."""
    out = []

    def visit(ds, split):
        if not isinstance(ds, dict):
            return
        if 'datasets' in ds:
            for sub in ds['datasets']:
                visit(sub, split)
            return
        if 'dataset' in ds and 'ann_file' not in ds:
            visit(ds['dataset'], split)
            return
        root = ds.get('data_root') or ''
        ann = ds.get('ann_file') or ''
        join = lambda p: p if (not root or osp.isabs(p)) else osp.join(root, p)  # noqa: E731
        prefix = dict(ds.get('data_prefix') or {})
        img_dir = prefix.get('img', prefix.get('img_path'))
        out.append(
            dict(
                split=split,
                type=ds.get('type'),
                ann_file=join(ann) if ann else '',
                img_dir=None if img_dir is None else join(img_dir),
                metainfo=ds.get('metainfo') or {},
                filter_empty=ds.get('filter_empty', False),
                img_suffix=ds.get('img_suffix'),
            )
        )

    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            visit(loader.get('dataset'), split)
    return out


def _dataset_class(type_):
    if not isinstance(type_, str):
        return type_
    from mmengine.registry import DefaultScope

    from mmpointsam.registry import DATASETS
    from mmpointsam.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmpointsam'):
        try:
            return DATASETS.get(type_)
        except Exception:
            return None


def check_dataset(report: FaultReport, ds: dict) -> None:
    """Check one entry of :func:`dataset_inputs` by its dataset type."""
    cls = _dataset_class(ds['type'])
    name = getattr(cls, '__name__', str(ds['type']))
    ann, img_dir = ds['ann_file'], ds['img_dir']
    from mmpointsam.datasets import CocoInstanceDataset, PointLabelDataset

    if cls is not None and issubclass(cls, PointLabelDataset):
        check_point_json(report, ann, img_dir or '', annotated_only=ds['filter_empty'])
    elif cls is not None and issubclass(cls, CocoInstanceDataset):
        classes = ds['metainfo'].get('classes') or cls.METAINFO.get('classes')
        check_coco_json(report, ann, img_dir or '', classes=classes, masks=True)
    elif ann.endswith('.json'):
        check_coco_json(report, ann, img_dir or '')
    elif 'DOTA' in name:
        if ann:
            check_dota_dir(
                report, ann, img_dir, ds['metainfo'].get('classes'), ds['img_suffix'] or 'png'
            )
        elif img_dir is not None and not osp.isdir(img_dir):
            report.add(img_dir, f'image folder of {name} not found')
    elif ann and not osp.exists(ann):
        report.add(ann, f'annotation file of {name} not found')


def _sam_init_checkpoint(cfg) -> Optional[str]:
    sam = cfg.get('model', {}).get('sam') if isinstance(cfg.get('model'), dict) else None
    init = (sam or {}).get('init_cfg') or {}
    if init.get('type') == 'Pretrained' and init.get('checkpoint'):
        return init['checkpoint']
    return None


def _prototype_files(cfg) -> List[str]:
    found = []

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'PrototypeRegularizer' and node.get('target_prototypes'):
                found.append(node['target_prototypes'])
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg.get('model'))
    return found


def check_config_inputs(
    cfg,
    splits: Sequence[str] = (),
    checkpoint: Optional[str] = None,
    resume: Optional[str] = None,
    weights: bool = True,
    prototypes: bool = True,
    report: Optional[FaultReport] = None,
) -> FaultReport:
    """Check every input a config reads: the datasets of ``splits``; with ``weights`` the SAM
    file of ``model.sam.init_cfg`` (unless ``checkpoint``, which holds every weight, is given),
    the target-prototype files (with ``prototypes``), ``checkpoint`` (a training checkpoint of
    the config's model), ``load_from`` and the ``resume`` checkpoint."""
    report = report if report is not None else FaultReport()
    for ds in dataset_inputs(cfg, splits):
        check_dataset(report, ds)
    if not weights:
        return report
    model = cfg.get('model') or {}
    sam_cfg = model.get('sam') if isinstance(model, dict) else None
    if checkpoint is not None:
        check_checkpoint(report, checkpoint, 'model', sam_cfg)
    else:
        sam_file = _sam_init_checkpoint(cfg)
        if sam_file is not None:
            check_checkpoint(report, sam_file, 'sam', sam_cfg)
        if prototypes:
            for path in _prototype_files(cfg):
                check_checkpoint(report, path, 'prototypes')
    if cfg.get('load_from') and not resume:
        check_checkpoint(report, cfg.load_from, 'model', sam_cfg, what='load_from')
    if resume:
        check_checkpoint(report, resume, 'resume', sam_cfg, what='--resume checkpoint')
    return report


def check_point2rbox_inputs(
    cfg,
    point_json: str,
    img_dir: str,
    checkpoint: Optional[str] = None,
    img_ids: Optional[Sequence[int]] = None,
) -> FaultReport:
    """The inputs of ``tools/point2rbox.py``: the point-label json and its images (those of
    ``img_ids`` when given) and the weights (``checkpoint`` or the config's SAM file)."""
    report = FaultReport()
    check_point_json(report, point_json, img_dir, img_ids=img_ids)
    return check_config_inputs(cfg, (), checkpoint, prototypes=False, report=report)


def resume_checkpoint(resume: Optional[str], work_dir: str) -> Optional[str]:
    """The checkpoint ``tools/train.py --resume`` resumes from (None: start from scratch).

    ``--resume`` alone: the latest checkpoint of ``work_dir``, which must exist (a mistyped
    ``--work-dir`` must not train from scratch as if resumed); ``--resume auto``: that one if
    there is one, else from scratch; ``--resume PATH``: that file, which must exist.

    Raises:
        InputError: when there is nothing to resume from.
    """
    if resume is None:
        return None
    from mmengine.runner.checkpoint import find_latest_checkpoint

    if resume in ('latest', 'auto'):
        latest = find_latest_checkpoint(work_dir) if osp.isdir(work_dir) else None
        if latest is not None and not osp.isfile(latest):
            raise InputError(
                f'{osp.join(work_dir, "last_checkpoint")}: names {latest}, which does not exist'
            )
        if latest is None and resume == 'latest':
            raise InputError(
                f'--resume: no checkpoint to resume from in the work dir {work_dir} (no '
                'last_checkpoint file). Check --work-dir; give --resume PATH, or --resume auto '
                'to resume when there is a checkpoint and start from scratch otherwise.'
            )
        return latest
    if not osp.isfile(resume):
        raise InputError(f'--resume {resume}: checkpoint not found')
    return resume
