"""A SAM file of another arch is named as such instead of PyTorch's bare size mismatch (#13)."""

import json
import os.path as osp

import pytest
import torch

from mmpointsam.models.sam import build_sam
from mmpointsam.models.sam.sam import checkpoint_arch

LAYOUT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'data',
    'checkpoint_layouts',
    'mobile_sam_vit_t_keys_shapes.json',
)


@pytest.fixture(scope='module')
def mobile_sam_file(tmp_path_factory):
    """A fake mobile_sam.pt: the real key/shape layout, zero tensors."""
    with open(LAYOUT) as f:
        layout = json.load(f)
    path = str(tmp_path_factory.mktemp('ckpt') / 'mobile_sam.pt')
    torch.save({k: torch.zeros(shape) for k, shape in layout.items()}, path)
    return path


def test_vit_t_file_in_a_vit_b_config_names_file_and_both_archs(mobile_sam_file):
    sam = build_sam(
        dict(
            arch='vit_b', img_size=256, init_cfg=dict(type='Pretrained', checkpoint=mobile_sam_file)
        )
    )
    with pytest.raises(RuntimeError) as excinfo:
        sam.init_weights()
    msg = str(excinfo.value)
    assert mobile_sam_file in msg
    assert "holds SAM arch='vit_t' weights" in msg and "SAM(arch='vit_b'" in msg
    assert 'size mismatch' not in msg


def test_checkpoint_arch_of_vit_layouts():
    tiny = build_sam(dict(arch='tiny', img_size=128)).state_dict()
    assert checkpoint_arch(tiny) == 'tiny'
    fake_b = {'image_encoder.patch_embed.proj.weight': torch.zeros(768, 3, 16, 16)}
    fake_b.update({f'image_encoder.blocks.{i}.norm1.weight': torch.zeros(768) for i in range(12)})
    assert checkpoint_arch(fake_b) == 'vit_b'


def test_tiny_file_at_another_img_size_is_named(tmp_path):
    path = str(tmp_path / 'tiny128.pth')
    torch.save(build_sam(dict(arch='tiny', img_size=128)).state_dict(), path)
    sam = build_sam(
        dict(arch='tiny', img_size=256, init_cfg=dict(type='Pretrained', checkpoint=path))
    )
    with pytest.raises(RuntimeError, match=r"holds SAM arch='tiny'.*img_size=256.*pos_embed"):
        sam.init_weights()
