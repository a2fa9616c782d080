"""Export a trained PointSAM checkpoint as a plain SAM checkpoint (LoRA merged into the weights).

The output has the official layout (``image_encoder.*``, ``prompt_encoder.*``, ``mask_decoder.*``
with fused ``qkv``) and loads strictly into segment-anything's / MobileSAM's own builders.

    python tools/model_converters/merge_lora.py CONFIG CHECKPOINT OUT.pth [--cfg-options k=v]

Only the config and the checkpoint are read: the checkpoint holds every weight (and the PBR
prototypes, which are not part of the SAM export), so no SAM or prototype file is needed.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmpointsam.registry import MODELS  # noqa: E402
from mmpointsam.utils import register_all_modules  # noqa: E402
from mmpointsam.utils.model_checkpoint import (load_model_checkpoint,  # noqa: E402
                                               weights_from_checkpoint)


def merge_lora(config: str, checkpoint: str, out: str, cfg_options: dict = None) -> dict:
    """Build the model of ``config``, load ``checkpoint``, write the merged SAM state dict."""
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    weights_from_checkpoint(cfg)  # the checkpoint holds every weight
    model = MODELS.build(cfg.model)
    load_model_checkpoint(model, checkpoint)
    state = model.sam.export_state_dict()
    tmp = f'{out}.tmp'
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(state, tmp)
    os.replace(tmp, out)  # never leave a half-written file under the final name
    return state


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. model.sam.img_size=512)')
    args = parser.parse_args()
    state = merge_lora(args.config, args.checkpoint, args.out, args.cfg_options)
    print(f'wrote {args.out}: {len(state)} tensors in the official SAM layout')


if __name__ == '__main__':
    main()
