"""The whole chain on a subset of NWPU VHR-10, with one table at the end:

GT masks -> sampled point labels -> point2rbox pseudo rotated boxes (and GT rotated boxes) ->
label quality -> stock MMRotate detectors (configs/rotated_det) trained a few iterations on each
-> rotated mAP (DOTAMetric AP50) on the ground truth of a subset of the 130-image split.

    python tools/benchmark/point2rbox_chain.py --train-images 8 --val-images 4 --iters 4

With random SAM weights (the default, --sam-checkpoint none) and no ImageNet backbone, on CPU,
this proves the plumbing, not accuracy; the output says so.
"""

import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.apis import gt_rboxes, point2rbox  # noqa: E402
from mmpointsam.datasets import sample_point_labels  # noqa: E402
from mmpointsam.evaluation.functional import rbox_label_quality  # noqa: E402
from mmpointsam.evaluation.functional.rbox_quality import _serial_map_eval  # noqa: E402
from mmpointsam.fileio import subset_coco_json  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DETECTORS = dict(
    retinanet='configs/rotated_det/rotated-retinanet-rbox-le90_r50_fpn_3x_nwpu-{}.py',
    fcos='configs/rotated_det/rotated-fcos-hbox-le90_r50_fpn_3x_nwpu-{}.py',
)


def parse_args():
    parser = argparse.ArgumentParser(description='points -> pseudo rboxes -> detector -> mAP')
    parser.add_argument('--data-root', default='data/nwpu_vhr10')
    parser.add_argument('--train-json', default='annotations/NWPU_instances_train.json')
    parser.add_argument('--val-json', default='annotations/NWPU_instances_val.json')
    parser.add_argument('--train-images', type=int, default=8)
    parser.add_argument('--val-images', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0, help='subset choice and point sampling')
    parser.add_argument(
        '--sam-config', default='configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py'
    )
    parser.add_argument(
        '--sam-checkpoint', default='none', help='SAM weights for the converter; "none": random'
    )
    parser.add_argument('--detectors', nargs='+', default=list(DETECTORS), choices=list(DETECTORS))
    parser.add_argument('--iters', type=int, default=4, help='training iterations per detector')
    parser.add_argument('--img-scale', type=int, default=256, help='detector image scale')
    parser.add_argument(
        '--pretrained-backbone',
        action='store_true',
        help="keep the configs' ImageNet ResNet-50 (needs internet or cache)",
    )
    parser.add_argument('--work-dir', default='work_dirs/point2rbox_chain')
    return parser.parse_args()


def detector_cfg(args, path: str, train_json: str, val_json: str, work_dir: str) -> Config:
    """A configs/rotated_det config on the subset files, shrunk to a few CPU iterations."""
    cfg = Config.fromfile(osp.join(REPO, path))
    cfg.work_dir = work_dir
    if not args.pretrained_backbone:
        cfg.model.backbone.init_cfg = None
    img_dir = osp.abspath(osp.join(args.data_root, 'images')) + '/'
    for split, ann in (('train', train_json), ('val', val_json), ('test', val_json)):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers, loader.persistent_workers = 0, False
        loader.dataset.update(
            data_root='', ann_file=osp.abspath(ann), data_prefix=dict(img=img_dir)
        )
        for step in loader.dataset.pipeline:
            if step['type'] == 'mmdet.Resize':
                step['scale'] = (args.img_scale, args.img_scale)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters, val_interval=args.iters)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=args.iters, by_epoch=False)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def main():
    args = parse_args()
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    start = time.perf_counter()

    def step(name):
        print(f'\n[chain] {name} ({time.perf_counter() - start:.0f} s)', flush=True)

    step(f'subsets: {args.train_images} train / {args.val_images} val images')
    train_gt = osp.join(work, 'train_gt_masks.json')
    val_gt = osp.join(work, 'val_gt_masks.json')
    subset_coco_json(
        osp.join(args.data_root, args.train_json), train_gt, args.train_images, seed=args.seed
    )
    subset_coco_json(
        osp.join(args.data_root, args.val_json), val_gt, args.val_images, seed=args.seed
    )
    step('point labels (1 positive point per instance, seeded)')
    points = osp.join(work, 'points_train.json')
    sample_point_labels(train_gt, points, num_points=1, num_neg_points=0, seed=args.seed)
    step('pseudo rotated boxes (point2rbox) and ground-truth rotated boxes')
    pseudo = point2rbox(
        osp.join(REPO, args.sam_config),
        points,
        osp.join(args.data_root, 'images'),
        osp.join(work, 'pseudo_train'),
        sam_checkpoint=args.sam_checkpoint,
    )
    labels = dict(pseudo=pseudo['json'], gt=gt_rboxes(train_gt, osp.join(work, 'gt_train'))['json'])
    step('label quality')
    quality = {k: rbox_label_quality(v, labels['gt']) for k, v in labels.items()}
    results = []
    for det in args.detectors:
        for kind in ('pseudo', 'gt'):
            step(f'{det} on {kind} labels: {args.iters} iterations, then DOTAMetric on GT val')
            cfg = detector_cfg(
                args,
                DETECTORS[det].format(kind),
                labels[kind],
                val_gt,
                osp.join(work, f'{det}_{kind}'),
            )
            t0 = time.perf_counter()
            runner = Runner.from_cfg(cfg)
            with _serial_map_eval():
                runner.train()  # ends with the validation
            results.append(
                (
                    det,
                    kind,
                    runner.message_hub.get_scalar('val/dota/mAP').current(),
                    time.perf_counter() - t0,
                )
            )

    random_sam = str(args.sam_checkpoint).lower() == 'none'
    print('\n' + '=' * 100)
    if random_sam or not args.pretrained_backbone:
        print(
            'PLUMBING CHECK, NOT ACCURACY: '
            + ('SAM has RANDOM weights (pseudo boxes mean nothing); ' if random_sam else '')
            + ('ResNet-50 starts from random weights; ' if not args.pretrained_backbone else '')
            + f'{args.iters} CPU iterations at {args.img_scale} px.'
        )
    print(
        f'NWPU VHR-10 subset: {args.train_images} train images ({pseudo["boxes_total"]} '
        f'pseudo boxes, {pseudo["empty_total"]} empty masks), {args.val_images} val images; '
        f'SAM: {pseudo["weights"]}'
    )
    header = [
        'detector',
        'train labels',
        'label mIoU',
        'label IoU>=0.5',
        'label AP50',
        'det mAP (AP50, GT val)',
        'train+val s',
    ]
    print(' | '.join(header))
    print(' | '.join('-' * len(h) for h in header))
    for det, kind, det_map, secs in results:
        row = quality[kind]['rows'][-1]
        print(
            f'{det} | {kind} | {row["mIoU"]:.4f} | {row["IoU>=0.5"]:.4f} | '
            f'{quality[kind]["mAP"]:.4f} | {det_map:.4f} | {secs:.0f}'
        )
    print(f'total {time.perf_counter() - start:.0f} s; files in {work}')


if __name__ == '__main__':
    main()
