"""Proxy domain-shift benchmark: what do self-training, PointSAM and ReSAM gain, on CPU, without
downloadable SAM weights?

Stage 1 trains a small SAM-architecture model FROM SCRATCH (random init, every parameter trains)
with full masks of NWPU VHR-10's source classes and SAM's own prompt distribution (points or a
noisy box, then corrective points with the previous mask: InteractivePromptSimulation), so its
box and mask-prompt paths are trained as a real SAM's are; its checkpoint plays "pretrained
SAM".
Stage 2 adapts it to the target classes (ship, harbor, bridge, vehicle, or another dataset given by
``--target-config``) from point labels only, with the papers' rows: Direct, Self-training, PointSAM
(NPC + PBR), ReSAM, PointSAM + ReSAM, and the Supervised upper bound (target masks); with 1 and
then 3 point prompts. Every training run goes through MMEngine's Runner (in-process, one Runner per
run) with the configs in projects/proxy_shift/configs/. Evaluation: mIoU / mF1 on the target
instances of the 130 test images; nothing is selected on them (stage 1 keeps its best checkpoint on
a validation part carved from the 520 training images, stage 2 uses its final weights).

From the repository root (``P=projects/proxy_shift``):

    python $P/tools/proxy_shift.py                       # default CPU run (< 2 h)
    python $P/tools/proxy_shift.py --quick ...           # tiny model, a few iterations
    python $P/tools/proxy_shift.py --target-config $P/configs/target_hrsid.py
    python $P/tools/proxy_shift.py --resume              # skip runs already in results.json
    python $P/tools/proxy_shift.py --bf16-selftrain      # + the self-training row in bf16
    python $P/tools/proxy_shift.py --resume --diagnose   # + pseudo masks vs ground truth
    python $P/tools/proxy_shift.py --table-only          # the table of results.json

Writes ``<work-dir>/results.json`` (every run, as it finishes), ``table.md`` and prints the table:
per row and point count the mIoU mean +- sample std over the seeds, the difference from Direct
and whether it exceeds the spread (every seed on the same side, by more than the std), and the
share of the Direct -> Supervised gap the row closes.

Default CPU setting (about 50 min on a shared 2-core CPU, one torch thread):
* images downscaled once to 256 px on the longer side (``--image-side``), model input 256
  (``--img-size``): NWPU images are ~1000 px, and decoding, mask rasterising and full-resolution
  IoU dominated the time at the original size; IoU / F1 are computed at 256 px;
* the model (projects/proxy_shift/configs/_model.py): SAM's ViT encoder with 4 blocks of width 128,
  SAM's prompt encoder and two-way mask decoder at width 64 (~1 M parameters): a 16 x 16 token
  grid keeps one iteration near 0.2 s;
* stage 1: 3000 iterations of batch 2 (~18 epochs of the 324 source images), AdamW 1e-3, cosine,
  3 decoder rounds per instance (about 20 min);
* stage 2: 150 iterations of batch 2 (~2 epochs of the 164 target images), full fine-tuning of
  every parameter at lr 2e-5 (chosen on target_val, carved from the 520 training images, among
  full fine-tuning at 2e-4 and 2e-5, LoRA r=4 at 2e-4 and an EMA teacher at 2e-4: at 2e-4 the
  current-weights teacher collapses to empty masks within ~100 iterations, and LoRA r=4 stayed
  at Direct's level). Full fine-tuning rather than LoRA: LoRA keeps a large pretrained encoder
  intact and saves memory; a 1 M-parameter model trained in minutes has neither concern, and
  low-rank updates of a 128-wide encoder leave little to adapt (``--stage2-lora R`` runs LoRA);
  seeds 0, 1 and 2, seed-major (a full table for seed 0 first); Direct once (deterministic).
"""

import argparse
import copy
import gc
import importlib.util
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

HERE = osp.dirname(osp.abspath(__file__))
PROJECT = osp.dirname(HERE)
REPO = osp.dirname(osp.dirname(PROJECT))
sys.path.insert(0, REPO)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.runner.checkpoint import CheckpointLoader  # noqa: E402

import mmpointsam  # noqa: E402,F401
import projects.proxy_shift.proxy_shift  # noqa: E402,F401
from mmpointsam.fileio import atomic_dump_json  # noqa: E402
from mmpointsam.registry import DATASETS  # noqa: E402
from mmpointsam.utils import apply_num_points  # noqa: E402


def _mean_spread(stats):
    """'mean +- std' over seeds, or the mean alone for a single run."""
    if len(stats['values']) > 1:
        return f'{stats["mean"]:.4f} +- {stats["std"]:.4f}'
    return f'{stats["mean"]:.4f}'


def _load_tool(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


split_tool = _load_tool('split_by_class', osp.join(HERE, 'split_by_class.py'))
proto_tool = _load_tool('compute_prototypes', osp.join(REPO, 'tools', 'compute_prototypes.py'))

CONFIGS = osp.join(PROJECT, 'configs')
ROWS = {  # row name -> stage-2 config
    'Direct': 'stage2_direct.py',
    'Self-training': 'stage2_selftrain.py',
    'Self-training (bf16)': 'stage2_selftrain.py',  # optim_wrapper.type='BF16OptimWrapper'
    'PointSAM': 'stage2_pointsam.py',
    'Self-training+NPC': 'stage2_selftrain_npc.py',  # ablations of PointSAM (not by default)
    'Self-training+PBR': 'stage2_selftrain_pbr.py',
    'Self-training+NPC (random)': 'stage2_selftrain_npc_random.py',
    'ReSAM': 'stage2_resam.py',
    'PointSAM+ReSAM': 'stage2_pointsam_resam.py',
    'Supervised (masks)': 'stage2_supervised.py',
    # the guards of issue 21 (PseudoLabelGate, NPC's min_kept / min_negative_distance, ReSAM's
    # refine floor; configs/_guards.py) and the ablation of each
    'Self-training +guards': 'stage2_selftrain_guarded.py',
    'PointSAM +guards': 'stage2_pointsam_guarded.py',
    'ReSAM +guards': 'stage2_resam_guarded.py',
    'PointSAM +guards -gate': 'stage2_pointsam_guarded_no_gate.py',
    'PointSAM +guards -min_kept': 'stage2_pointsam_guarded_no_keep.py',
    'PointSAM +guards -distance': 'stage2_pointsam_guarded_no_distance.py',
    'ReSAM +guards -gate': 'stage2_resam_guarded_no_gate.py',
    'ReSAM +guards -floor': 'stage2_resam_guarded_no_floor.py',
    'ReSAM +ceiling': 'stage2_resam_ceiling.py',
    'ReSAM +EMA': 'stage2_resam_ema.py',
    'ReSAM +EMA 0.05': 'stage2_resam_ema_fast.py',
    'ReSAM +NPC': 'stage2_resam_npc.py',
    'Self-training +EMA': 'stage2_selftrain_ema.py',
    'PointSAM +guards -gate +EMA': 'stage2_pointsam_guarded_ema.py',
    'PointSAM +guards -gate +EMA 0.05': 'stage2_pointsam_guarded_ema_fast.py',
}
ROW_KEYS = {
    'direct': 'Direct',
    'selftrain': 'Self-training',
    'selftrain_bf16': 'Self-training (bf16)',
    'pointsam': 'PointSAM',
    'npc': 'Self-training+NPC',
    'pbr': 'Self-training+PBR',
    'npc_random': 'Self-training+NPC (random)',
    'resam': 'ReSAM',
    'pointsam_resam': 'PointSAM+ReSAM',
    'supervised': 'Supervised (masks)',
    'selftrain_g': 'Self-training +guards',
    'pointsam_g': 'PointSAM +guards',
    'resam_g': 'ReSAM +guards',
    'pointsam_g_nogate': 'PointSAM +guards -gate',
    'pointsam_g_nokeep': 'PointSAM +guards -min_kept',
    'pointsam_g_nodist': 'PointSAM +guards -distance',
    'resam_g_nogate': 'ReSAM +guards -gate',
    'resam_g_nofloor': 'ReSAM +guards -floor',
    'resam_ceil': 'ReSAM +ceiling',
    'resam_ema': 'ReSAM +EMA',
    'resam_ema_fast': 'ReSAM +EMA 0.05',
    'resam_npc': 'ReSAM +NPC',
    'selftrain_ema': 'Self-training +EMA',
    'pointsam_g_ema': 'PointSAM +guards -gate +EMA',
    'pointsam_g_ema_fast': 'PointSAM +guards -gate +EMA 0.05',
}
# rows run only when asked for (--rows)
OPTIONAL_ROWS = (
    'selftrain_bf16',
    'npc',
    'pbr',
    'npc_random',
    'pointsam_g_nogate',
    'pointsam_g_nokeep',
    'pointsam_g_nodist',
    'resam_g_nogate',
    'resam_g_nofloor',
    'resam_ceil',
    'resam_ema',
    'resam_ema_fast',
    'resam_npc',
    'selftrain_ema',
    'pointsam_g_ema',
    'pointsam_g_ema_fast',
)
# pseudo-mask statistics of the self-training runs (PointPromptSelfTraining logs them) kept in
# results.json: mean of the first and of the last 10 % of the iterations
STATS = ('pseudo_empty_share', 'pseudo_area_ratio', 'pseudo_view_iou', 'gate_dropped')

# Default CPU setting (see the notes in projects/proxy_shift/configs/_model.py and the report):
# 256 px input, a 4-block ViT of width 128 and a 64-d decoder; stage 1 STAGE1_ITERS iterations of
# batch 2 (about 5 epochs of the source images), stage 2 STAGE2_ITERS iterations of batch 2 per
# run; sized for a shared 2-core CPU (calibrated at 1 to 3 s per stage-1 iteration under load).
STAGE1_ITERS = 3000
STAGE2_ITERS = 150


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--work-dir', default='work_dirs/proxy_shift')
    p.add_argument(
        '--nwpu-root',
        default='data/nwpu_vhr10',
        help='NWPU VHR-10 with images/ (the source domain, and the default target)',
    )
    p.add_argument(
        '--train-ann',
        default='annotations/NWPU_instances_train.json',
        help='the 520 training images, relative to --nwpu-root',
    )
    p.add_argument(
        '--test-ann',
        default='annotations/NWPU_instances_val.json',
        help='the 130 test images, relative to --nwpu-root',
    )
    p.add_argument('--split-dir', help='where the class split goes (default <work-dir>/split)')
    p.add_argument(
        '--val-ratio',
        type=float,
        default=0.1,
        help='share of the training images carved out for stage-1 validation',
    )
    p.add_argument('--split-seed', type=int, default=0)
    p.add_argument('--target-config', default=osp.join(CONFIGS, 'target_nwpu_vhr10.py'))
    p.add_argument(
        '--rows',
        nargs='+',
        choices=sorted(ROW_KEYS),
        default=[k for k in ROW_KEYS if k not in OPTIONAL_ROWS],
        help='rows to run; npc, pbr (PointSAM without PBR / without NPC), '
        "npc_random (NPC with the public code's random negatives) and the ablations of the "
        'guards (*_g_no*) only when asked',
    )
    p.add_argument(
        '--bf16-selftrain',
        action='store_true',
        help='also run the self-training row with bf16 mixed precision '
        '(BF16OptimWrapper), same seeds, beside the fp32 one',
    )
    p.add_argument('--num-points', nargs='+', type=int, default=[1, 3])
    p.add_argument(
        '--seeds',
        nargs='+',
        type=int,
        default=[0, 1, 2],
        help='stage-2 seeds (the table shows their mean and sample std)',
    )
    p.add_argument('--stage1-iters', type=int, default=STAGE1_ITERS)
    p.add_argument('--stage2-iters', type=int, default=STAGE2_ITERS)
    p.add_argument(
        '--stage2-lr',
        type=float,
        default=2e-5,
        help='stage-2 learning rate (2e-5 chosen on target_val: at 2e-4 every '
        'self-training row collapsed to empty masks)',
    )
    p.add_argument(
        '--stage2-lora',
        type=int,
        default=0,
        help='LoRA rank for stage 2 (q, v of every encoder block; only LoRA trains, '
        'as in the papers); 0 (default): full fine-tuning',
    )
    p.add_argument(
        '--eval-split',
        choices=('test', 'val'),
        default='test',
        help="'val': evaluate stage 2 on the target validation part carved from the "
        'training images (target_val_ann), e.g. to choose settings without the test set',
    )
    p.add_argument(
        '--stage1-checkpoint',
        help='skip stage 1 and start stage 2 from this SAM state dict (stage1_sam.pth)',
    )
    p.add_argument('--img-size', type=int, default=256, help="the model's input side")
    p.add_argument(
        '--image-side',
        type=int,
        default=256,
        help='NWPU images are downscaled once to this longer side (0: original '
        'size); training and evaluation (IoU, F1) happen at that size',
    )
    p.add_argument(
        '--proto-images',
        type=int,
        default=128,
        help='target training images for the PBR prototypes',
    )
    p.add_argument('--workers', type=int, default=1, help='dataloader workers')
    p.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads; 1 by default: on a shared 2-core CPU a second thread '
        'costs more in waiting than it gains (measured 4x slower under load)',
    )
    p.add_argument(
        '--quick',
        action='store_true',
        help="tiny model ('tiny' ViT, 128 px), 4 + 2 iterations, one seed",
    )
    p.add_argument(
        '--resume',
        action='store_true',
        help='reuse stage 1 and every run already in <work-dir>/results.json',
    )
    p.add_argument(
        '--diagnose',
        action='store_true',
        help='after the table, train each self-training row again (first seed) '
        "under the papers' protocol, prompts resampled from the target masks, and "
        'report how good its pseudo masks are over the iterations (pseudo_gt_iou) '
        'with pictures of ground truth, pseudo masks and student',
    )
    p.add_argument(
        '--table-only',
        action='store_true',
        help='print the table of <work-dir>/results.json and run nothing',
    )
    args = p.parse_args(argv)
    if args.quick:
        args.stage1_iters = min(args.stage1_iters, 4)
        args.stage2_iters = min(args.stage2_iters, 2)
        args.img_size = 128
        args.image_side = 128
        args.seeds = args.seeds[:1]
        args.workers = 0
        args.proto_images = min(args.proto_images, 4)
    if args.bf16_selftrain and 'selftrain_bf16' not in args.rows:
        at = args.rows.index('selftrain') + 1 if 'selftrain' in args.rows else len(args.rows)
        args.rows.insert(at, 'selftrain_bf16')
    args.split_dir = args.split_dir or osp.join(args.work_dir, 'split')
    return args


# ---------------------------------------------------------------------------- config helpers
def _abs(path: str) -> str:
    return path if osp.isabs(path) else osp.abspath(path)


def _model_overrides(cfg: Config, args) -> None:
    cfg.model.data_preprocessor.img_size = args.img_size
    cfg.model.sam.img_size = args.img_size
    if args.quick:
        cfg.model.sam.arch = 'tiny'
        cfg.model.sam.decoder = 'tiny'


def _embed_dim(cfg: Config) -> int:
    from mmpointsam.models.sam.sam import DECODER_SETTINGS

    dec = cfg.model.sam.decoder
    return (DECODER_SETTINGS[dec] if isinstance(dec, str) else dec)['embed_dim']


def _loader(loader, workers: int) -> None:
    loader.num_workers = workers
    loader.persistent_workers = workers > 0


def _iter_schedule(cfg: Config, iters: int, lr: Optional[float] = None, val: bool = False) -> None:
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop',
        max_iters=iters,
        val_interval=max(iters // 2, 1) if val else 10**9,
    )
    if lr is not None:
        cfg.optim_wrapper.optimizer.lr = lr
    warm = max(min(cfg.param_scheduler[0]['end'], iters // 5), 1)
    cfg.param_scheduler[0]['end'] = warm
    for sched in cfg.param_scheduler[1:]:
        sched['begin'] = warm
        sched['end'] = max(iters, warm + 1)
    cfg.default_hooks.checkpoint.interval = max(iters // 2, 1) if val else iters
    cfg.default_hooks.logger.interval = min(cfg.default_hooks.logger.interval, max(iters, 1))


def _set_num_points(cfg: Config, k: int) -> None:
    cfg.num_points = k
    apply_num_points(cfg)


def _run(cfg: Config, train: bool, history: Sequence[str] = ()) -> Dict[str, float]:
    """One Runner: train (optional) and test; returns the test metrics, and under
    ``'history/<key>'`` the per-iteration values of the logged training scalars ``history``."""
    runner = Runner.from_cfg(cfg)
    try:
        if train:
            runner.train()
        else:
            runner.model.init_weights()
        metrics = runner.test()
        logged = {
            f'history/{k}': runner.message_hub.get_scalar(f'train/{k}').data[0].tolist()
            for k in history
            if f'train/{k}' in runner.message_hub.log_scalars
        }
        if train:
            logged.update(_pseudo_stats(runner.message_hub))
    finally:
        del runner
        gc.collect()
    out = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    out.update(logged)
    return out


def _pseudo_stats(hub) -> Dict[str, float]:
    """First / last 10 % means of the logged pseudo-mask statistics and the number of
    PseudoLabelMonitorHook warnings of a training run."""
    out = {}
    for k in STATS:
        if f'train/{k}' not in hub.log_scalars:
            continue
        series = hub.get_scalar(f'train/{k}').data[0].tolist()
        n = max(len(series) // 10, 1)
        out[f'{k}_first'] = sum(series[:n]) / n
        out[f'{k}_last'] = sum(series[-n:]) / n
    out['collapse_warnings'] = int(hub.get_info('pseudo_collapse_warnings', 0) or 0)
    return out


def _name(cfg: Config, tag: str) -> None:
    cfg.work_dir = tag
    cfg.experiment_name = f'{osp.basename(tag)}_{time.strftime("%Y%m%d_%H%M%S")}'


# ---------------------------------------------------------------------------- stage 1
def stage1_config(args, train: bool = True) -> Config:
    cfg = Config.fromfile(osp.join(CONFIGS, 'stage1_source_nwpu.py'))
    _model_overrides(cfg, args)
    root = _abs(args.split_dir) + '/'  # images/ (downscaled copies) and the split jsons
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = root
        loader.dataset.ann_file = osp.join(_abs(args.split_dir), f'source_{split}.json')
        _loader(loader, args.workers)
    with open(cfg.val_dataloader.dataset.ann_file) as f:
        has_val = bool(json.load(f)['images'])
    if not has_val:  # nothing to select on (e.g. --val-ratio 0): keep the final weights
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint.save_best = None
    _iter_schedule(cfg, args.stage1_iters, val=has_val)
    if not train:
        cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = cfg.param_scheduler = None
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    return cfg


def export_sam(work_dir: str, out: str) -> str:
    """The best (else the last) stage-1 checkpoint's SAM weights as a plain SAM state dict."""
    best = sorted(f for f in os.listdir(work_dir) if f.startswith('best_') and f.endswith('.pth'))
    last = osp.join(work_dir, 'last_checkpoint')
    path = osp.join(work_dir, best[-1]) if best else open(last).read().strip()
    state = CheckpointLoader.load_checkpoint(path, map_location='cpu')['state_dict']
    sam = {k[4:]: v for k, v in state.items() if k.startswith('sam.')}
    torch.save(sam, out)
    return path


def run_stage1(args, results: dict, log) -> str:
    sam_path = osp.join(_abs(args.work_dir), 'stage1_sam.pth')
    if args.resume and osp.isfile(sam_path) and 'stage1' in results:
        log(f'stage 1: reusing {sam_path}')
        return sam_path
    t0 = time.time()
    cfg = stage1_config(args)
    _name(cfg, osp.join(_abs(args.work_dir), 'stage1'))
    metrics = _run(cfg, train=True)  # the final weights on source_test, for the log only
    chosen = export_sam(cfg.work_dir, sam_path)
    train_time = time.time() - t0
    log(
        f'stage 1: trained {args.stage1_iters} iterations in {train_time / 60:.1f} min, '
        f'using {osp.basename(chosen)}'
    )
    # source-class test IoU of the chosen checkpoint and of the same model with random weights
    evals = {}
    for tag, ckpt in (('stage1', sam_path), ('random', None)):
        cfg = stage1_config(args, train=False)
        if ckpt:
            cfg.model.sam.init_cfg = dict(type='Pretrained', checkpoint=ckpt)
        cfg.randomness = dict(seed=0)
        _name(cfg, osp.join(_abs(args.work_dir), f'source_test_{tag}'))
        evals[tag] = _run(cfg, train=False)
    results['stage1'] = dict(
        iters=args.stage1_iters,
        checkpoint=osp.basename(chosen),
        time_s=train_time,
        final_source_test=metrics,
        source_test=evals['stage1'],
        random_source_test=evals['random'],
    )
    log(
        f'stage 1: source test mIoU {evals["stage1"]["sam/mIoU"]:.4f} '
        f'(random weights {evals["random"]["sam/mIoU"]:.4f})'
    )
    return sam_path


# ---------------------------------------------------------------------------- stage 2
def load_target(args) -> dict:
    tcfg = Config.fromfile(args.target_config)
    fmt = dict(nwpu_root=_abs(args.nwpu_root), split_dir=_abs(args.split_dir))
    target = dict(
        type=tcfg.target_type,
        root=tcfg.target_root.format(**fmt),
        img_prefix=tcfg.target_img_prefix,
        train_ann=tcfg.target_train_ann.format(**fmt),
        test_ann=tcfg.target_test_ann.format(**fmt),
        val_ann=tcfg.get('target_val_ann', '').format(**fmt) or None,
        points_ann=tcfg.get('target_points_ann'),
        # dataset keyword arguments, e.g. HRSID's exclude_img_ids
        train_options=dict(tcfg.get('target_train_options', {})),
        test_options=dict(tcfg.get('target_test_options', {})),
    )
    target['classes'] = DATASETS.get(target['type']).METAINFO['classes']
    if tcfg.get('target_classes') or tcfg.get('target_image_style'):
        restyle_target(args, target, tcfg.get('target_classes'), tcfg.get('target_image_style'))
    return target


def restyle_target(args, target: dict, classes, style: Optional[dict]) -> None:
    """A harder target from the target config: only the instances of ``classes`` (annotation
    files written into the work dir) and, with ``style=dict(type='sar', looks, seed,
    src_prefix)``, the images as SAR-like grey levels with speckle (``split_by_class.sar_like``;
    written once, seeded by image id, under ``target_img_prefix``)."""
    for key in ('train_ann', 'test_ann', 'val_ann'):
        path = target[key]
        if not path:
            continue
        path = path if osp.isabs(path) else osp.join(target['root'], path)
        with open(path) as f:
            coco = json.load(f)
        if classes:
            coco = split_tool.subset(coco, [i['id'] for i in coco['images']], classes)
            path = osp.join(_abs(args.work_dir), f'target_{key[:-4]}.json')
            atomic_dump_json(coco, path)
        target[key] = path
        if style:
            if style.get('type') != 'sar':
                raise ValueError(f'{args.target_config}: unknown target_image_style {style}')
            split_tool.restyle_images(
                coco,
                osp.join(target['root'], style['src_prefix']),
                osp.join(target['root'], target['img_prefix']),
                looks=style['looks'],
                seed=style['seed'],
            )


def points_file(args, target: dict, k: int) -> str:
    """The target point labels with k positive (+ k negative) points: the target config's file,
    else sampled once (seeded) from the training masks into the work dir."""
    if target['points_ann']:
        path = target['points_ann'].format(
            nwpu_root=_abs(args.nwpu_root), split_dir=_abs(args.split_dir), num_points=k
        )
        path = path if osp.isabs(path) else osp.join(target['root'], path)
        if osp.isfile(path):
            return path
    train_ann = target['train_ann']
    train_ann = train_ann if osp.isabs(train_ann) else osp.join(target['root'], train_ann)
    out = osp.join(_abs(args.work_dir), f'target_train_points_{k}pt.json')
    if not osp.isfile(out):
        with open(train_ann) as f:
            coco = json.load(f)
        left_out = set(target['train_options'].get('exclude_img_ids', ()))
        if left_out:  # the images the training dataset leaves out get no point labels either
            coco['images'] = [i for i in coco['images'] if i['id'] not in left_out]
            coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] not in left_out]
        atomic_dump_json(split_tool.point_labels(coco, k, args.split_seed), out)
    return out


def stage2_config(
    args, row: str, target: dict, sam_path: str, k: int, seed: int, protos: Optional[str] = None
) -> Config:
    cfg = Config.fromfile(osp.join(CONFIGS, ROWS[row]))
    _model_overrides(cfg, args)
    cfg.model.sam.init_cfg = dict(type='Pretrained', checkpoint=sam_path)
    test = cfg.test_dataloader
    test.dataset.type = target['type']
    test.dataset.data_root = target['root']
    test.dataset.ann_file = target['val_ann' if args.eval_split == 'val' else 'test_ann']
    test.dataset.data_prefix = dict(img=target['img_prefix'])
    test.dataset.update(target['test_options'])
    _loader(test, args.workers)
    if args.stage2_lora:
        cfg.model.sam.lora = dict(r=args.stage2_lora, targets=('q', 'v'), first_block=0)
        cfg.model.sam.trainable = ()
    st = cfg.model.get('self_training')
    if st:
        for key in ('prototype_loss', 'alignment_loss'):
            if st.get(key):
                st[key].dim = _embed_dim(cfg)
        if st.get('prototype_loss'):
            st.prototype_loss.target_prototypes = protos
        if st.get('alignment_loss'):
            st.alignment_loss.warmup_iters = max(args.stage2_iters // 4, 1)
    if cfg.get('train_dataloader'):
        ds = cfg.train_dataloader.dataset
        ds.data_root = target['root']
        ds.data_prefix = dict(img=target['img_prefix'])
        if ds.type == 'PointLabelDataset':
            ds.ann_file = points_file(args, target, k)
            ds.metainfo = dict(classes=target['classes'])
        else:  # the supervised upper bound: target masks
            ds.type = target['type']
            ds.ann_file = target['train_ann']
            ds.update(target['train_options'])
        _loader(cfg.train_dataloader, args.workers)
        _iter_schedule(cfg, args.stage2_iters, lr=args.stage2_lr)
        if row.endswith('(bf16)'):
            cfg.optim_wrapper.type = 'BF16OptimWrapper'
    _set_num_points(cfg, k)
    cfg.randomness = dict(seed=seed)
    return cfg


def make_prototypes(args, target: dict, sam_path: str, k: int, log) -> str:
    """PBR's target prototypes: compute_prototypes (tools/compute_prototypes.py) on the stage-1
    model's features at the target training point labels (no masks)."""
    out = osp.join(_abs(args.work_dir), f'target_prototypes_{k}pt.pth')
    if args.resume and osp.isfile(out):
        return out
    cfg = stage2_config(args, 'PointSAM', target, sam_path, k, 0, protos='unused')
    cfg.test_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPointLabels'),
        dict(type='PackSAMInputs'),
    ]
    init_default_scope('mmpointsam')
    t0 = time.time()
    result = proto_tool.compute_prototypes(cfg, args.proto_images, 'cpu')
    torch.save(result, out)
    log(
        f'prototypes ({k} pt): {len(result["prototypes"])} from {result["num_features"]} point '
        f'features of {result["num_images"]} images in {time.time() - t0:.0f} s'
    )
    return out


# ---------------------------------------------------------------------------- diagnosis
SELF_TRAINING_ROWS = (
    'Self-training',
    'Self-training+NPC',
    'Self-training+PBR',
    'Self-training+NPC (random)',
    'PointSAM',
    'ReSAM',
    'PointSAM+ReSAM',
)


def diagnose_config(
    args, row: str, target: dict, sam_path: str, k: int, seed: int, protos: Optional[str]
) -> Config:
    """A self-training row under the papers' protocol: target masks are read to resample the
    prompts every iteration (never as a loss), so the pseudo masks can be scored against them
    and drawn beside them (SAMVisualizationHook, 4 pictures per third of the run)."""
    cfg = stage2_config(args, row, target, sam_path, k, seed, protos)
    pipeline = copy.deepcopy(cfg.selftrain_pipeline)
    for t in pipeline:
        if t['type'] == 'SamplePointPrompts':
            t['max_instances'] = 16
    cfg.train_dataloader.dataset = dict(
        type=target['type'],
        data_root=target['root'],
        ann_file=target['train_ann'],
        data_prefix=dict(img=target['img_prefix']),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=pipeline,
        **target['train_options'],
    )
    _set_num_points(cfg, k)
    cfg.default_hooks.logger.interval = 1  # every iteration's pseudo_gt_iou in the history
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(
            type='SAMVisualizationHook', num_images=4, train_interval=max(args.stage2_iters // 3, 1)
        )
    ]
    return cfg


def diagnosis_table(results: dict) -> str:
    """Pseudo-mask IoU with the ground truth at the start and the end of each diagnosed run."""
    lines = [
        "**Diagnosis** (papers' protocol: prompts resampled from the target masks; "
        'pseudo masks scored against them; first and last 10 % of the iterations):',
        '',
        '| row | points | pseudo/GT IoU, start | pseudo/GT IoU, end | change | test mIoU |',
        '|---|---|---|---|---|---|',
    ]
    for run_id, m in results.get('diagnose', {}).items():
        row, k, _ = run_id.split('|')
        series = m.get('history/pseudo_gt_iou') or []
        if not series:
            continue
        n = max(len(series) // 10, 1)
        start, end = _mean(series[:n]), _mean(series[-n:])
        lines.append(
            f'| {row} | {k} | {start:.4f} | {end:.4f} | {end - start:+.4f} | {m["sam/mIoU"]:.4f} |'
        )
    return '\n'.join(lines)


def run_diagnosis(
    args, results: dict, target: dict, sam_path: str, protos: dict, log, save
) -> None:
    results.setdefault('diagnose', {})
    seed = args.seeds[0]
    for k in args.num_points:
        for key in args.rows:
            row = ROW_KEYS[key]
            run_id = f'{row}|{k}|{seed}'
            if row not in SELF_TRAINING_ROWS or run_id in results['diagnose']:
                continue
            cfg = diagnose_config(args, row, target, sam_path, k, seed, protos.get(k))
            _name(cfg, osp.join(_abs(args.work_dir), 'diagnose', f'{key}_{k}pt_seed{seed}'))
            t0 = time.time()
            metrics = _run(cfg, train=True, history=('pseudo_gt_iou', 'pseudo_iou'))
            metrics['time_s'] = time.time() - t0
            metrics['work_dir'] = cfg.work_dir
            results['diagnose'][run_id] = metrics
            save()
            series = metrics.get('history/pseudo_gt_iou', [])
            log(
                f'diagnose {row}, {k} pt: pseudo/GT IoU {series[0] if series else float("nan"):.4f}'
                f' -> {series[-1] if series else float("nan"):.4f}, pictures in {cfg.work_dir}'
            )


# ---------------------------------------------------------------------------- table
def _mean(values: List[float]) -> float:
    return sum(values) / len(values)


def _std(values: List[float]) -> float:
    """Sample standard deviation (n - 1); 0 for a single value."""
    if len(values) < 2:
        return 0.0
    m = _mean(values)
    return (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def row_stats(results: dict, row: str, k: int, metric: str = 'sam/mIoU') -> Optional[dict]:
    """Per-seed values of one row at k points, their mean and sample std ("spread")."""
    runs = results.get('runs', {})
    got = {int(r.rsplit('|', 1)[1]): runs[r] for r in runs if r.startswith(f'{row}|{k}|')}
    if not got:
        return None
    values = [got[s][metric] for s in sorted(got)]
    return dict(
        seeds=sorted(got),
        values=values,
        mean=_mean(values),
        std=_std(values),
        time_s=_mean([got[s]['time_s'] for s in got]),
    )


def verdict(stats: dict, direct: float) -> str:
    """How a row stands against Direct (deterministic: one value): 'above'/'below' when the
    mean differs by more than the spread (sample std over seeds) and every seed lies on that
    side, else 'within spread'."""
    delta = stats['mean'] - direct
    if len(stats['values']) < 2:
        return 'one seed'
    if abs(delta) > stats['std'] and all((v - direct) * delta > 0 for v in stats['values']):
        return 'above' if delta > 0 else 'below'
    return 'within spread'


def stats_table(args, results: dict) -> str:
    """The pseudo-mask statistics of the self-training rows (mean over seeds) and how many runs
    PseudoLabelMonitorHook warned about."""
    lines = [
        '**Pseudo masks** (mean over seeds of the first / last 10 % of the iterations; '
        "area ratio: mean area over the first iterations'; warned: runs with a "
        'PseudoLabelMonitorHook warning):',
        '',
        '| target row | points | empty share | area ratio, end | view IoU, end | gate dropped, end '
        '| warned |',
        '|---|---|---|---|---|---|---|',
    ]
    runs = results.get('runs', {})
    for key in args.rows:
        row = ROW_KEYS[key]
        for k in args.num_points:
            got = [m for r, m in runs.items() if r.startswith(f'{row}|{k}|')]
            got = [m for m in got if 'pseudo_empty_share_last' in m]
            if not got:
                continue

            def avg(name, got=got):
                vals = [m[name] for m in got if name in m]
                return f'{_mean(vals):.3f}' if vals else '-'

            warned = sum(1 for m in got if m.get('collapse_warnings', 0) > 0)
            lines.append(
                f'| {row} | {k} | {avg("pseudo_empty_share_first")} -> '
                f'{avg("pseudo_empty_share_last")} | {avg("pseudo_area_ratio_last")} | '
                f'{avg("pseudo_view_iou_last")} | {avg("gate_dropped_last")} | '
                f'{warned} of {len(got)} |'
            )
    return '\n'.join(lines) if len(lines) > 4 else ''


def make_table(args, results: dict) -> str:
    lines = []
    s1 = results.get('stage1')
    if s1:
        lines += [
            '**Stage 1** (from scratch, source-class masks; 1-point prompts on the source '
            'instances of the 130 test images):',
            '',
            '| model | source mIoU | source mF1 | instances | train time |',
            '|---|---|---|---|---|',
            f'| random weights | {s1["random_source_test"]["sam/mIoU"]:.4f} | '
            f'{s1["random_source_test"]["sam/mF1"]:.4f} | '
            f'{int(s1["random_source_test"]["sam/num_instances"])} | - |',
            f'| stage 1 ({s1["iters"]} it, {s1["checkpoint"]}) | '
            f'{s1["source_test"]["sam/mIoU"]:.4f} | {s1["source_test"]["sam/mF1"]:.4f} | '
            f'{int(s1["source_test"]["sam/num_instances"])} | {s1["time_s"] / 60:.1f} min |',
            '',
        ]
    ks = args.num_points
    setting = (
        f'LoRA r={args.stage2_lora}' if args.stage2_lora else 'full fine-tuning'
    ) + f', lr {args.stage2_lr:g}, {args.stage2_iters} it, teacher as each row configures it'
    lines += [
        f'**Stage 2** (target: {results.get("target", "")}; {setting}; {args.eval_split} '
        'split): mIoU mean +- sample std over seeds; vs Direct: "above"/"below" when the '
        'mean differs from Direct by more than the std and every seed is on that side; '
        'gap share: (row - Direct) / (Supervised - Direct).',
        '',
    ]
    head = (
        '| target row | '
        + ' | '.join(f'{k}-pt mIoU | {k}-pt mF1 | {k}-pt vs Direct | {k}-pt gap share' for k in ks)
        + ' | seeds | wall time / run |'
    )
    lines += [head, '|' + '---|' * (4 * len(ks) + 3)]
    for key in args.rows:
        row = ROW_KEYS[key]
        cells, times, nseeds = [], [], 0
        for k in ks:
            st = row_stats(results, row, k)
            if st is None:
                cells += ['-'] * 4
                continue
            f1 = row_stats(results, row, k, 'sam/mF1')
            direct = row_stats(results, 'Direct', k)
            sup = row_stats(results, 'Supervised (masks)', k)
            cells += [_mean_spread(st), _mean_spread(f1)]
            if row == 'Direct' or direct is None:
                cells.append('-')
            else:
                cells.append(f'{st["mean"] - direct["mean"]:+.4f} {verdict(st, direct["mean"])}')
            gap = sup['mean'] - direct['mean'] if sup and direct else 0.0
            cells.append(
                f'{(st["mean"] - direct["mean"]) / gap:+.0%}'
                if row != 'Direct' and direct and gap > 0
                else '-'
            )
            times.append(st['time_s'])
            nseeds = max(nseeds, len(st['values']))
        time_cell = f'{_mean(times):.0f} s' if times else '-'
        lines.append(f'| {row} | ' + ' | '.join(cells) + f' | {nseeds} | {time_cell} |')
    for k in ks:  # bf16 against fp32 self-training, seed by seed (issue #17's safety check)
        fp32 = row_stats(results, 'Self-training', k)
        bf16 = row_stats(results, 'Self-training (bf16)', k)
        if fp32 and bf16:  # the seeds both rows have, pair by pair
            pairs = [
                b - f
                for s, f in zip(fp32['seeds'], fp32['values'])
                for t, b in zip(bf16['seeds'], bf16['values'])
                if s == t
            ]
            if not pairs:
                continue
            spread = max(fp32['std'], bf16['std'])
            lines += [
                '',
                f'Self-training bf16 - fp32 at {k} pt, same seeds: '
                + ', '.join(f'{d:+.4f}' for d in pairs)
                + f'; mean {_mean(pairs):+.4f} against a seed spread of {spread:.4f}: '
                + ('within' if abs(_mean(pairs)) <= spread else 'OUTSIDE')
                + ' the spread.',
            ]
    stats = stats_table(args, results)
    if stats:
        lines += ['', stats]
    if results.get('diagnose'):
        lines += ['', diagnosis_table(results)]
    if 'total_s' in results:
        lines += ['', f'Total wall time: {results["total_s"] / 60:.1f} min']
    return '\n'.join(lines)


# ---------------------------------------------------------------------------- main
def main(argv=None) -> str:
    args = parse_args(argv)
    if args.table_only:
        with open(osp.join(args.work_dir, 'results.json')) as f:
            table = make_table(args, json.load(f))
        print(table, flush=True)
        return table
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.work_dir, exist_ok=True)
    res_path = osp.join(args.work_dir, 'results.json')
    results = {}
    if args.resume and osp.isfile(res_path):
        with open(res_path) as f:
            results = json.load(f)
    results.setdefault('runs', {})
    results['target'] = osp.basename(args.target_config)
    results['args'] = vars(args)
    start = time.time() - results.get('total_s', 0.0) if args.resume else time.time()

    def log(msg: str) -> None:
        print(
            f'[proxy_shift {time.strftime("%H:%M:%S")} +{(time.time() - start) / 60:.1f} min] '
            f'{msg}',
            flush=True,
        )

    def save() -> None:
        results['total_s'] = time.time() - start
        atomic_dump_json(results, res_path, indent=1)

    init_default_scope('mmpointsam')
    summary = split_tool.split_by_class(
        osp.join(args.nwpu_root, args.train_ann),
        osp.join(args.nwpu_root, args.test_ann),
        args.split_dir,
        seed=args.split_seed,
        val_ratio=args.val_ratio,
        image_dir=osp.join(args.nwpu_root, 'images'),
        max_side=args.image_side or None,
    )
    log(
        'class split: '
        + ', '.join(f'{n} {s["images"]} img / {s["instances"]} inst' for n, s in summary.items())
    )
    if args.stage1_checkpoint:
        sam_path = _abs(args.stage1_checkpoint)
        log(f'stage 1: using {sam_path}')
    else:
        sam_path = run_stage1(args, results, log)
    save()

    target = load_target(args)
    protos = {}
    if any(ROW_KEYS[r].startswith('PointSAM') or r == 'pbr' for r in args.rows):
        protos = {k: make_prototypes(args, target, sam_path, k, log) for k in args.num_points}
    # seed-major order: a complete table for the first seed comes before any second seed
    for i, seed in enumerate(args.seeds):
        for k in args.num_points:
            for key in args.rows:
                row = ROW_KEYS[key]
                if row == 'Direct' and i > 0:  # deterministic: one evaluation
                    continue
                run_id = f'{row}|{k}|{seed}'
                if run_id in results['runs']:
                    continue
                cfg = stage2_config(args, row, target, sam_path, k, seed, protos.get(k))
                _name(cfg, osp.join(_abs(args.work_dir), 'stage2', f'{key}_{k}pt_seed{seed}'))
                t0 = time.time()
                metrics = _run(cfg, train=row != 'Direct')
                metrics['time_s'] = time.time() - t0
                results['runs'][run_id] = metrics
                save()
                log(
                    f'{row}, {k} pt, seed {seed}: mIoU {metrics["sam/mIoU"]:.4f} '
                    f'mF1 {metrics["sam/mF1"]:.4f} in {metrics["time_s"]:.0f} s'
                )
        with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
            f.write(make_table(args, results) + '\n')
    if args.diagnose:
        run_diagnosis(args, results, target, sam_path, protos, log, save)
    save()
    table = make_table(args, results)
    with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
        f.write(table + '\n')
    print('\n' + table, flush=True)
    return table


if __name__ == '__main__':
    main()
