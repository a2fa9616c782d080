"""Export a trained PointSAM checkpoint as a plain SAM checkpoint (LoRA merged into the weights).

The output has the official layout (``image_encoder.*``, ``prompt_encoder.*``, ``mask_decoder.*``
with fused ``qkv``) and loads strictly into segment-anything's / MobileSAM's own builders. A SAM2
model is written as an official SAM 2 file (weights under ``model``, fused Hiera ``qkv``);
``--sam2-video-weights sam2.1_hiera_base_plus.pt`` copies that file's video-only tensors in, so
that ``sam2.build_sam.build_sam2`` loads the result strictly.

    python tools/model_converters/merge_lora.py CONFIG CHECKPOINT OUT.pth [--cfg-options k=v]

Only the config and the checkpoint are read: the checkpoint holds every weight (and the PBR
prototypes, which are not part of the SAM export), so no SAM or prototype file is needed.
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmpointsam.fileio import atomic_open  # noqa: E402
from mmpointsam.models.sam.sam2 import SAM2, official_checkpoint  # noqa: E402
from mmpointsam.registry import MODELS  # noqa: E402
from mmpointsam.utils import register_all_modules  # noqa: E402
from mmpointsam.utils.config import merge_cfg_options  # noqa: E402
from mmpointsam.utils.input_checks import FaultReport, check_checkpoint  # noqa: E402
from mmpointsam.utils.model_checkpoint import load_model_checkpoint, weights_from_checkpoint  # noqa: E402


def merge_lora(
    config: str, checkpoint: str, out: str, cfg_options: dict = None, sam2_video_weights: str = None
) -> dict:
    """Build the model of ``config``, load ``checkpoint``, write the merged SAM state dict
    (for SAM2 as an official SAM 2 file, see :func:`official_checkpoint`)."""
    register_all_modules()
    cfg = Config.fromfile(config)
    merge_cfg_options(cfg, cfg_options)
    # the checkpoints, before the model is built and anything written
    report = FaultReport()
    check_checkpoint(report, checkpoint, 'model', cfg.model.get('sam'))
    if sam2_video_weights:
        check_checkpoint(report, sam2_video_weights, 'sam', what='--sam2-video-weights')
    report.raise_if_any()
    weights_from_checkpoint(cfg)  # the checkpoint holds every weight
    model = MODELS.build(cfg.model)
    load_model_checkpoint(model, checkpoint)
    if sam2_video_weights and not isinstance(model.sam, SAM2):
        raise ValueError(
            '--sam2-video-weights is for SAM2 models; this config builds '
            f'{type(model.sam).__name__}'
        )
    state = model.sam.export_state_dict()
    with atomic_open(out, 'wb') as f:  # never a half-written file under the final name
        torch.save(
            official_checkpoint(state, sam2_video_weights)
            if isinstance(model.sam, SAM2)
            else state,
            f,
        )
    return state


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. model.sam.img_size=512)',
    )
    parser.add_argument(
        '--sam2-video-weights',
        help='SAM2 only: the official file whose video-only tensors to copy in',
    )
    args = parser.parse_args()
    state = merge_lora(
        args.config, args.checkpoint, args.out, args.cfg_options, args.sam2_video_weights
    )
    print(f'wrote {args.out}: {len(state)} tensors in the official SAM layout')


if __name__ == '__main__':
    main()
