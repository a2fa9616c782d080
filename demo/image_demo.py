"""Segment the objects you click on one image and write masks and rotated boxes.

    python demo/image_demo.py IMG --points "x,y;x,y" [--labels 1,0] \
        --config configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu-clicks.py \
        --checkpoint work_dirs/.../epoch_10.pth --out DIR

Each positive click is one object; negative clicks (label 0) are background for every object.
Without --config, --checkpoint may be a plain SAM/MobileSAM file. Writes, under DIR, for an image
named STEM: STEM_vis.jpg (masks, rotated boxes, clicks), STEM_masks.png (16-bit instance index,
0 background, i + 1 for click i), STEM_masks.json (COCO RLE per click, with score and rbox) and
STEM.txt (DOTA: x1 y1 ... x4 y4 class difficulty, one line per non-empty mask). Scenes larger
than --window-size are run in native-resolution windows around the clicks.
"""

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.apis import PointSAMInferencer  # noqa: E402
from mmpointsam.fileio import atomic_dump_json, dump_dota_txt  # noqa: E402
from mmpointsam.utils import set_sam_checkpoint  # noqa: E402
from mmpointsam.utils.config import merge_cfg_options  # noqa: E402
from mmpointsam.utils.input_checks import (  # noqa: E402
    FaultReport,
    check_checkpoint,
    check_config_inputs,
    inspect_image,
)

# draw masks only while N x H x W stays below this many pixels (the visualizer needs full masks)
MAX_DRAWN_MASK_PIXELS = 400_000_000


def parse_points(text: str) -> np.ndarray:
    try:
        pts = [[float(v) for v in p.split(',')] for p in text.strip().strip(';').split(';')]
    except ValueError:
        pts = None
    if not pts or any(len(p) != 2 for p in pts):
        raise argparse.ArgumentTypeError(f'--points must be "x,y;x,y;...", got {text!r}')
    return np.asarray(pts, dtype=np.float32)


def parse_labels(text: str) -> np.ndarray:
    try:
        return np.asarray([int(v) for v in text.split(',')], dtype=np.int64)
    except ValueError:
        raise argparse.ArgumentTypeError(f'--labels must be "1,0,...", got {text!r}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('--points', type=parse_points, required=True, help='"x,y;x,y;..."')
    parser.add_argument('--labels', type=parse_labels, help='"1,0,...": 1 object, 0 background')
    parser.add_argument('--config', help='mmpointsam config (omit for a plain SAM file)')
    parser.add_argument('--checkpoint', help='trained checkpoint, or a plain SAM/MobileSAM file')
    parser.add_argument(
        '--sam-checkpoint', help='official SAM weights for the config ("none": random weights)'
    )
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', help='cpu, cuda, cuda:1 (default: cuda when available)')
    parser.add_argument('--window-size', type=int, default=1024)
    parser.add_argument('--window-overlap', type=int, default=256)
    parser.add_argument('--class-name', default='object', help='class written to the DOTA txt')
    parser.add_argument(
        '--click-negatives',
        type=int,
        default=0,
        help='add to each object the N nearest other clicks as negatives (the '
        'prompt shape the -clicks configs train with: 1)',
    )
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.labels is not None and len(args.labels) != len(args.points):
        parser.error(f'{len(args.points)} points but {len(args.labels)} labels')
    if args.config is None and args.checkpoint is None:
        parser.error('give --config (with --checkpoint or --sam-checkpoint) or a SAM --checkpoint')
    return args


def write_outputs(result, img: np.ndarray, out_dir: str, stem: str, class_name: str) -> dict:
    """Picture, label PNG, RLE json and DOTA txt of one prediction; returns their paths."""
    from mmpointsam.visualization import SAMVisualizer

    os.makedirs(out_dir, exist_ok=True)
    paths = dict(
        vis=osp.join(out_dir, f'{stem}_vis.jpg'),
        png=osp.join(out_dir, f'{stem}_masks.png'),
        json=osp.join(out_dir, f'{stem}_masks.json'),
        dota=osp.join(out_dir, f'{stem}.txt'),
    )
    label = result.label_map()
    if label.max() >= 2**16:
        raise ValueError(f'{len(result)} objects do not fit a 16-bit label PNG')
    if not cv2.imwrite(paths['png'], label.astype(np.uint16)):
        raise OSError(f'could not write {paths["png"]}')

    corners = result.rbox_corners()
    anns = []
    for i, rle in enumerate(result.rles()):
        anns.append(
            dict(
                id=i + 1,
                segmentation=rle,
                score=float(result.scores[i]),
                points=result.points[i][result.point_labels[i] >= 0].tolist(),
                point_labels=result.point_labels[i][result.point_labels[i] >= 0].tolist(),
                rbox_le90=result.rboxes[i].tolist() if result.valid[i] else None,
                empty=not bool(result.valid[i]),
            )
        )
    height, width = result.image_shape
    atomic_dump_json(
        dict(
            image=dict(file_name=osp.basename(result.meta['img_path']), width=width, height=height),
            windows=result.windows.tolist(),
            annotations=anns,
        ),
        paths['json'],
    )
    dump_dota_txt(paths['dota'], corners[result.valid], [class_name] * int(result.valid.sum()))

    instances = InstanceData(
        rboxes=result.rboxes[result.valid],
        scores=result.scores[result.valid],
        points=result.points[result.valid],
        point_labels=result.point_labels[result.valid],
    )
    if result.valid.sum() * height * width <= MAX_DRAWN_MASK_PIXELS:
        instances.masks = result.full_masks()[result.valid]
    vis = SAMVisualizer(name=f'image_demo_{stem}', draw_labels=True)
    picture = vis.draw_instances(mmcv.bgr2rgb(img), instances, where=result.meta['img_path'])
    mmcv.imwrite(mmcv.rgb2bgr(picture), paths['vis'])
    return paths


def check_inputs(args) -> None:
    """The image and the weights, before the model is built and anything written."""
    report = FaultReport()
    _, _, fault = inspect_image(args.img)
    if fault:
        report.add(args.img, fault)
    if args.config is None:
        check_checkpoint(report, args.checkpoint, 'any')
    else:
        cfg = Config.fromfile(args.config)
        merge_cfg_options(cfg, args.cfg_options)
        if args.sam_checkpoint is not None:
            set_sam_checkpoint(cfg, args.sam_checkpoint)
        check_config_inputs(cfg, (), args.checkpoint, prototypes=False, report=report)
    report.raise_if_any()


def main(argv=None) -> dict:
    args = parse_args(argv)
    check_inputs(args)
    inferencer = PointSAMInferencer(
        args.config,
        args.checkpoint,
        sam_checkpoint=args.sam_checkpoint,
        device=args.device,
        window_size=args.window_size,
        window_overlap=args.window_overlap,
        click_negatives=args.click_negatives,
        cfg_options=args.cfg_options,
    )
    result = inferencer(args.img, args.points, args.labels)
    img = mmcv.imread(args.img, 'color')
    stem = osp.splitext(osp.basename(args.img))[0]
    paths = write_outputs(result, img, args.out, stem, args.class_name)
    print(
        f'{args.img}: {len(result)} objects, {int(result.valid.sum())} non-empty masks, '
        f'{len(result.windows)} window(s); wrote ' + ', '.join(paths.values())
    )
    return paths


if __name__ == '__main__':
    main()
