"""Target prototypes for PointSAM's Prototype-based Regularization.

Frozen-SAM image features (the 256-d neck) are sampled at every instance's positive prompt points
of up to ``--max-images`` training images, clustered with FINCH, and the coarsest non-trivial
partition's cluster means are saved to the file that a PointSAM config names. With a click file
(the ``-clicks`` configs, ``PointLabelDataset``) the points are the user's clicks and no mask is
read; with the papers' configs they are sampled (seeded) from the training masks.

    python tools/compute_prototypes.py configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py \
        --sam-checkpoint PATH --out data/prototypes/nwpu_vhr10_vit_b.pth
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import mmpointsam  # noqa: E402,F401
from mmpointsam.fileio import atomic_open  # noqa: E402
from mmpointsam.models.self_training import finch_prototypes, sample_point_features  # noqa: E402
from mmpointsam.registry import DATASETS, MODELS  # noqa: E402
from mmpointsam.utils import apply_num_points, set_sam_checkpoint  # noqa: E402
from mmpointsam.utils.config import merge_cfg_options  # noqa: E402
from mmpointsam.utils.input_checks import check_config_inputs, finish  # noqa: E402


def build_dataset(cfg: Config):
    """The training images without augmentation: a click file's own points (no masks), else the
    evaluation pipeline's seeded prompts sampled from the masks."""
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    if dataset_cfg.type == 'PointLabelDataset':
        dataset_cfg.pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='LoadPointLabels'),
            dict(type='PackSAMInputs'),
        ]
    else:
        dataset_cfg.pipeline = cfg.test_dataloader.dataset.pipeline
    return DATASETS.build(dataset_cfg)


@torch.no_grad()
def compute_prototypes(cfg: Config, max_images: int = 128, device: str = 'cpu') -> dict:
    model_cfg = cfg.model.copy()
    model_cfg.pop('self_training', None)  # features of the frozen SAM, nothing else
    model = MODELS.build(model_cfg).to(device).eval()
    model.init_weights()
    dataset = build_dataset(cfg)
    num = min(max_images, len(dataset))
    feats = []
    bar = ProgressBar(num)
    for idx in range(num):
        data = model.data_preprocessor(pseudo_collate([dataset[idx]]), False)
        prompts = model.collect_prompts(data['data_samples'])
        emb = model.sam.encode(data['inputs'])
        positive = prompts.labels == 1
        batch_idx = prompts.batch_idx[:, None].expand_as(prompts.labels)[positive]
        feats.append(
            sample_point_features(
                model.sam.image_embedding(emb),
                prompts.points[positive],
                batch_idx,
                model.sam.img_size,
            ).cpu()
        )
        bar.update()
    feats = torch.cat(feats)
    means, labels = finch_prototypes(feats.numpy())
    arch = cfg.model.sam.arch
    # plain types only: the file must load under torch.load(weights_only=True) (torch >= 2.6)
    arch = arch.to_dict() if hasattr(arch, 'to_dict') else arch
    return dict(
        prototypes=torch.as_tensor(means), num_features=len(feats), num_images=num, arch=arch
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--out', required=True, help='output .pth file')
    parser.add_argument('--sam-checkpoint', help='SAM checkpoint ("none": random weights)')
    parser.add_argument('--max-images', type=int, default=128)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        '--check-only',
        action='store_true',
        help='check the config, its training data and the SAM file, then exit (0: no fault)',
    )
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    merge_cfg_options(cfg, args.cfg_options)
    apply_num_points(cfg)
    if args.sam_checkpoint is not None:
        set_sam_checkpoint(cfg, args.sam_checkpoint)
    # the training data and the SAM file, before the model is built (not the prototype file:
    # this tool writes it)
    report = check_config_inputs(cfg, ('train',), prototypes=False)
    finish(report, args.check_only, 'compute_prototypes.py')
    init_default_scope(cfg.get('default_scope', 'mmpointsam'))
    result = compute_prototypes(cfg, args.max_images, args.device)
    with atomic_open(args.out, 'wb') as f:
        torch.save(result, f)
    print(
        f'\n{args.out}: {len(result["prototypes"])} prototypes from '
        f'{result["num_features"]} point features of {result["num_images"]} images'
    )


if __name__ == '__main__':
    main()
