"""Seconds per image of point-prompt evaluation (the tools/test.py path) on real NWPU images.

Builds the Direct-SAM config with random weights for each encoder, runs MMEngine's test loop on
the first N images of the test split, and prints seconds per image beside the time the image
encoder took inside those same iterations (forward hooks on it), so both come from one pass
under one load. Their ratio is the cost of everything that is not the encoder: data loading,
prompt decoding, mask resampling, metric, visualization hook.

    python tools/benchmark/eval_speed.py --archs vit_t vit_b --num-images 10
"""

import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
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


def time_eval(runner: Runner):
    """Seconds per image of the test loop and of the encoder within it (first batch excluded)."""
    runner.model.init_weights()
    state = dict(t0=None, images=0, encoder=0.0, enc_start=0.0, counting=False)
    encoder = runner.model.sam.image_encoder

    def enc_pre(module, args):
        state['enc_start'] = time.perf_counter()

    def enc_post(module, args, output):
        if state['counting']:
            state['encoder'] += time.perf_counter() - state['enc_start']

    encoder.register_forward_pre_hook(enc_pre)
    encoder.register_forward_hook(enc_post)

    class TimingHook(Hook):
        priority = 'VERY_LOW'

        def after_test_iter(self, runner_, batch_idx, data_batch=None, outputs=None):
            if batch_idx == 0:  # warm-up done: count from here
                state['t0'] = time.perf_counter()
                state['counting'] = True
            else:
                state['images'] += len(outputs)

    runner.register_hook(TimingHook())
    runner.test()
    n = max(state['images'], 1)
    return (time.perf_counter() - state['t0']) / n, state['encoder'] / n, state['images']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/sam_direct/sam-direct_sam-vit-b_nwpu.py')
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
        per_image, enc, n = time_eval(runner)
        rows.append((arch, n, per_image, enc, per_image / enc))
        MMLogger.get_current_instance().warning(f'{arch}: {per_image:.2f} s/image')
    print(
        f'\nPoint-prompt evaluation on NWPU test images, CPU ({torch.get_num_threads()} threads), '
        f'random weights, batch {args.batch_size}, 1 point, 1024 input'
    )
    print(
        f'{"arch":<7}{"images":>7}{"s/image (test loop)":>21}{"s/image (encoder)":>19}{"ratio":>7}'
    )
    for arch, n, per_image, enc, ratio in rows:
        print(f'{arch:<7}{n:>7}{per_image:>21.2f}{enc:>19.2f}{ratio:>7.2f}')


if __name__ == '__main__':
    main()
