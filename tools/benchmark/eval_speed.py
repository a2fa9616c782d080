"""Seconds per image of point-prompt evaluation (the tools/test.py path) on real NWPU images.

Builds the Direct-SAM config with random weights for each encoder, runs MMEngine's test loop on
the first N images of the test split, and prints seconds per image beside the cost of the image
encoder alone on the same images (their ratio is the overhead of everything that is not the
encoder: data loading, prompt decoding, mask resampling, metric).

    python tools/benchmark/eval_speed.py --archs vit_t vit_b --num-images 10
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.utils import set_sam_checkpoint  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build_runner(args, arch: str, work_dir: str) -> Runner:
    cfg = Config.fromfile(osp.join(REPO, args.config))
    set_sam_checkpoint(cfg, 'none')
    cfg.model.sam.arch = arch
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    loader = cfg.test_dataloader
    loader.dataset.data_root = args.data_root
    loader.dataset.indices = args.num_images + 1  # +1: the first image warms up
    loader.num_workers = args.num_workers
    loader.persistent_workers = args.num_workers > 0
    loader.batch_size = args.batch_size
    return Runner.from_cfg(cfg)


def time_eval(runner: Runner, num_images: int, batch_size: int):
    runner.model.init_weights()
    timer = dict(t0=None, n=0)

    def after_iter(runner_, batch_idx, data_batch=None, outputs=None):
        if batch_idx == 0:
            timer['t0'] = time.perf_counter()
        else:
            timer['n'] += len(outputs)

    from mmengine.hooks import Hook

    class TimingHook(Hook):
        priority = 'VERY_LOW'
        after_test_iter = staticmethod(after_iter)

    runner.register_hook(TimingHook())
    runner.test()
    return (time.perf_counter() - timer['t0']) / max(timer['n'], 1), timer['n']


@torch.no_grad()
def time_encoder(runner: Runner, num_images: int) -> float:
    model = runner.model.eval()
    loader = runner.test_dataloader
    times = []
    for i, batch in enumerate(loader):
        data = model.data_preprocessor(batch, False)
        t0 = time.perf_counter()
        model.sam.encode(data['inputs'])
        if i > 0:
            times.append((time.perf_counter() - t0) / len(batch['inputs']))
        if len(times) * loader.batch_size >= num_images:
            break
    return sum(times) / len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/sam_direct_nwpu.py')
    parser.add_argument('--data-root', default='data/nwpu_vhr10/')
    parser.add_argument('--archs', nargs='+', default=['vit_t', 'vit_b'])
    parser.add_argument('--num-images', type=int, default=10)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--num-workers', type=int, default=1)
    parser.add_argument('--work-dir', default='work_dirs/benchmark_eval_speed')
    args = parser.parse_args()
    rows = []
    for arch in args.archs:
        runner = build_runner(args, arch, osp.join(args.work_dir, arch))
        per_image, n = time_eval(runner, args.num_images, args.batch_size)
        enc = time_encoder(runner, args.num_images)
        rows.append((arch, n, per_image, enc, per_image / enc))
        MMLogger.get_current_instance().warning(f'{arch}: {per_image:.2f} s/image')
    print(f'\nPoint-prompt evaluation on NWPU test images, CPU ({torch.get_num_threads()} threads), '
          f'random weights, batch {args.batch_size}, 1 point, 1024 input')
    print(f'{"arch":<7}{"images":>7}{"s/image (test loop)":>21}{"s/image (encoder)":>19}'
          f'{"ratio":>7}')
    for arch, n, per_image, enc, ratio in rows:
        print(f'{arch:<7}{n:>7}{per_image:>21.2f}{enc:>19.2f}{ratio:>7.2f}')


if __name__ == '__main__':
    main()
