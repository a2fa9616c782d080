"""Save what the model will see: a config's pipeline output (augmented views, prompts, masks).

Each picture shows the packed image with its instance masks and point prompts (star: positive,
cross: negative); a self-training pipeline's weak and strong views are shown side by side.

Example:
    python tools/browse_dataset.py configs/supervised/supervised_mobilesam-vit-t-lora_10e_nwpu.py \
        --output-dir work_dirs/browse --max-images 20
"""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import mmpointsam  # noqa: E402,F401  (collections shim before mmrotate)
from mmpointsam.registry import DATASETS  # noqa: E402
from mmpointsam.utils import set_num_points  # noqa: E402
from mmpointsam.utils.config import add_num_points_argument, merge_cfg_options  # noqa: E402
from mmpointsam.utils.input_checks import check_config_inputs  # noqa: E402
from mmpointsam.visualization import SAMVisualizer  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Save the pipeline output of a dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', required=True, help='folder for the pictures')
    parser.add_argument(
        '--split',
        default='train',
        choices=['train', 'val', 'test'],
        help='whose dataloader (dataset and pipeline) to run',
    )
    parser.add_argument('--max-images', type=int, default=20, help='pictures to save')
    parser.add_argument('--start', type=int, default=0, help='first dataset index')
    add_num_points_argument(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (e.g. '
        'train_dataloader.dataset.ann_file=annotations/NWPU_instances_val.json)',
    )
    return parser.parse_args()


def to_rgb(inputs) -> np.ndarray:
    """A packed (C, H, W) BGR image tensor as an (H, W, 3) RGB array."""
    img = inputs.permute(1, 2, 0).numpy()
    return np.ascontiguousarray(img[..., ::-1] if img.shape[2] == 3 else img)


def draw_item(vis: SAMVisualizer, item: dict, classes) -> np.ndarray:
    """All views of one pipeline output, each with the sample's masks and prompts."""
    inputs, sample = item['inputs'], item['data_samples']
    views = inputs if isinstance(inputs, dict) else dict(image=inputs)
    flip = sample.metainfo.get('flip_direction') if sample.metainfo.get('flip') else None
    panels = []
    for name, tensor in views.items():
        img = to_rgb(tensor)
        title = (
            f'{name} view {img.shape[1]}x{img.shape[0]}'
            if name != 'image'
            else f'{img.shape[1]}x{img.shape[0]}'
        )
        if flip:
            title += f', flipped {flip}'
        panels.append(
            vis.draw_instances(
                img,
                sample.gt_instances,
                classes,
                f'{title}, {len(sample.gt_instances)} instances',
                where=sample.metainfo.get('img_path', name),
            )
        )
    return vis.concat_panels(panels)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    if args.num_points is not None:
        set_num_points(cfg, args.num_points)
    init_default_scope(cfg.get('default_scope', 'mmpointsam'))
    loader = cfg.get(f'{args.split}_dataloader')
    if loader is None:
        raise KeyError(f'{args.config} has no {args.split}_dataloader')
    check_config_inputs(cfg, (args.split,), weights=False).raise_if_any()
    dataset = DATASETS.build(loader.dataset)
    classes = dataset.metainfo.get('classes')
    vis = SAMVisualizer(name='browse_dataset')
    os.makedirs(args.output_dir, exist_ok=True)

    indices = range(args.start, min(len(dataset), args.start + args.max_images))
    progress = ProgressBar(len(indices))
    for i in indices:
        item = dataset[i]
        drawn = draw_item(vis, item, classes)
        img_path = item['data_samples'].metainfo.get('img_path', str(i))
        stem = osp.splitext(osp.basename(img_path))[0]
        mmcv.imwrite(drawn[..., ::-1], osp.join(args.output_dir, f'{i:05d}_{stem}.jpg'))
        progress.update()
    print(f'\n{len(indices)} pictures in {args.output_dir}')


if __name__ == '__main__':
    main()
