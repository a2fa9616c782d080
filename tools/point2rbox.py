"""Point labels -> rotated-box pseudo labels (COCO json with 4-corner polygons + DOTA txt).

    python tools/point2rbox.py configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py \
        data/nwpu_vhr10_rbox/points_train.json data/nwpu_vhr10/images \
        data/nwpu_vhr10_rbox/pseudo_train --sam-checkpoint checkpoints/mobile_sam.pt

A rerun with the same arguments skips the images already done (resume).

On several processes (GPUs, nodes) through torchrun: ``tools/dist_point2rbox.sh`` (or
``--launcher pytorch`` under your own launcher); under slurm: ``tools/slurm_point2rbox.sh``.
See docs/en/user_guides/large_datasets.md.
"""

import argparse
import datetime
import os
import os.path as osp
import signal
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

import mmpointsam  # noqa: E402,F401  (collections shim before mmrotate)
from mmpointsam.apis import point2rbox  # noqa: E402
from mmpointsam.structures import RBOX_METHODS  # noqa: E402
from mmpointsam.utils import set_sam_checkpoint  # noqa: E402
from mmpointsam.utils.config import merge_cfg_options  # noqa: E402
from mmpointsam.utils.dist import init_gloo_process_group  # noqa: E402
from mmpointsam.utils.input_checks import check_point2rbox_inputs, finish  # noqa: E402
from mmpointsam.utils.process import die_with_parent  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Turn point labels into rotated-box pseudo labels with SAM / PointSAM'
    )
    parser.add_argument('config', help='a SAM/PointSAM config (its model is used)')
    parser.add_argument('point_json', help='point-label json (sample_point_labels.py makes one)')
    parser.add_argument('img_dir', help='folder of the images named in the json')
    parser.add_argument('out_dir', help='output folder: labels.json and annfiles/*.txt')
    parser.add_argument('--checkpoint', help='a PointSAM checkpoint saved by tools/train.py')
    parser.add_argument(
        '--sam-checkpoint',
        help='official SAM/MobileSAM weights for model.sam; "none": RANDOM weights (plumbing '
        "only, the boxes mean nothing); default: the config's init_cfg",
    )
    parser.add_argument(
        '--method',
        choices=RBOX_METHODS,
        default='largest',
        help='min-area rectangle of the largest mask component or of all pixels',
    )
    parser.add_argument(
        '--npc-iou-thr', type=float, default=0.1, help='Negative Prompt Calibration IoU threshold'
    )
    parser.add_argument('--no-npc', action='store_true', help='no Negative Prompt Calibration')
    parser.add_argument(
        '--npc-max-negatives',
        type=int,
        default=8,
        help='NPC negatives per calibrated click, from the most-overlapping '
        'instances (keeps dense scenes linear); 0: all of them (the paper)',
    )
    parser.add_argument(
        '--no-resume', action='store_true', help='start afresh, removing earlier outputs in out_dir'
    )
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--img-ids', type=int, nargs='+', help='convert only these image ids of the json (a subset)'
    )
    parser.add_argument(
        '--max-images', type=int, help='convert only the first N images (after --img-ids)'
    )
    parser.add_argument('--seed', type=int, default=0, help='torch seed (random weights)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='images (or patches) per image-encoder call; 1 is fastest on CPU (see '
        'docs/en/user_guides/large_datasets.md), GPUs gain from 4-8',
    )
    parser.add_argument(
        '--workers',
        type=int,
        default=None,
        help='DataLoader workers decoding images and cutting patches (default: 2 on CUDA, '
        '0 on CPU, where they would take cores from the encoder)',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='pytorch: started by torchrun (tools/dist_point2rbox.sh); slurm: by srun',
    )
    parser.add_argument(
        '--claim-timeout',
        type=float,
        default=24.0,
        help='hours after which an image claimed by a process on another host (that may have '
        'died) is taken over; on one host a dead owner is seen at once',
    )
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        '--check-only',
        action='store_true',
        help='check the config, the point json, its images and the checkpoints, then exit '
        '(0: no fault)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.sam.img_size=512',
    )
    return parser.parse_args()


def check_inputs(args) -> None:
    """Every input, before the model is built and anything written (--check-only: just this)."""
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    if args.sam_checkpoint is not None:
        set_sam_checkpoint(cfg, args.sam_checkpoint)
    report = check_point2rbox_inputs(
        cfg, args.point_json, args.img_dir, args.checkpoint, img_ids=args.img_ids
    )
    finish(report, args.check_only, 'point2rbox.py')
    print(f'point2rbox: {report.summary()}')


def init_distributed(args) -> str:
    """Start the process group of a torchrun/slurm launch (NCCL with CUDA, gloo without);
    returns the device this process converts on."""
    device = args.device
    if args.launcher == 'none':
        return device
    from mmengine.dist import init_dist

    # ranks that finish early wait for the slowest at the end: allow long imbalances
    timeout = datetime.timedelta(hours=6)
    if torch.cuda.is_available() and device != 'cpu':
        init_dist(args.launcher, backend='nccl', timeout=timeout)
        device = f'cuda:{torch.cuda.current_device()}'
    elif args.launcher == 'pytorch':
        # MMEngine's init_dist calls torch.cuda.set_device: on a CPU machine start gloo here
        init_gloo_process_group(timeout=timeout)
    else:
        raise RuntimeError('--launcher slurm needs CUDA; without it use tools/dist_point2rbox.sh')
    return device


def fault_hook():
    """``MMPOINTSAM_P2R_KILL=RANK:N`` (tests): rank RANK kills itself (SIGKILL) after writing
    N images, as a crashed node would; None when unset."""
    spec = os.environ.get('MMPOINTSAM_P2R_KILL')
    if not spec:
        return None
    rank, count = (int(v) for v in spec.split(':'))
    if int(os.environ.get('RANK', 0)) != rank:
        return None
    done = []

    def hook(img):
        done.append(img['id'])
        if len(done) >= count:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def main():
    args = parse_args()
    # a SIGTERM (torchrun stopping the group, slurm's scancel) unwinds normally, so this
    # process's claims of unfinished images are dropped at once
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    die_with_parent()  # DataLoader workers (--workers) end with this process, even on kill -9
    device = init_distributed(args)
    check_inputs(args)
    if args.sam_checkpoint is not None and args.sam_checkpoint.lower() == 'none':
        print(
            'point2rbox: --sam-checkpoint none: SAM has RANDOM weights; this checks the '
            'plumbing only, the boxes mean nothing.'
        )
    point2rbox(
        args.config,
        args.point_json,
        args.img_dir,
        args.out_dir,
        checkpoint=args.checkpoint,
        sam_checkpoint=args.sam_checkpoint,
        method=args.method,
        npc_iou_thr=None if args.no_npc else args.npc_iou_thr,
        device=device,
        resume=not args.no_resume,
        seed=args.seed,
        cfg_options=args.cfg_options,
        npc_max_negatives=args.npc_max_negatives or None,
        img_ids=args.img_ids,
        max_images=args.max_images,
        batch_size=args.batch_size,
        num_workers=(
            args.workers if args.workers is not None else (2 if device.startswith('cuda') else 0)
        ),
        claim_timeout=None if args.claim_timeout <= 0 else args.claim_timeout * 3600,
        on_image=fault_hook(),
    )


if __name__ == '__main__':
    main()
