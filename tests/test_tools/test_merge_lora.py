import os.path as osp

import torch
from mmengine.config import Config

from mmpointsam.models.sam import build_sam
from mmpointsam.registry import MODELS
from mmpointsam.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_merge_lora_tool_exports_plain_sam(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        'merge_lora', osp.join(REPO, 'tools', 'model_converters', 'merge_lora.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    register_all_modules()
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'supervised/supervised_sam-vit-b-lora_10e_nwpu.py')
    )
    cfg.model.data_preprocessor.img_size = 128
    cfg.model.sam.update(arch='tiny', img_size=128, init_cfg=None)
    cfg.model.sam.lora.first_block = 0
    cfg_path = tmp_path / 'cfg.py'
    cfg.dump(str(cfg_path))
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'lora_B' in name:
                param.normal_()  # a "trained" adapter
    ckpt = tmp_path / 'trained.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)

    out = tmp_path / 'export' / 'sam_merged.pth'
    tool.merge_lora(str(cfg_path), str(ckpt), str(out))
    assert out.is_file() and not (tmp_path / 'export' / 'sam_merged.pth.tmp').exists()

    plain = build_sam(
        dict(arch='tiny', img_size=128, init_cfg=dict(type='Pretrained', checkpoint=str(out)))
    )
    plain.init_weights()  # strict: fails on any missing/unexpected key
    x = torch.randn(1, 3, 128, 128)
    model.eval(), plain.eval()
    with torch.no_grad():
        assert torch.allclose(model.sam.encode(x), plain.encode(x), atol=1e-4)
