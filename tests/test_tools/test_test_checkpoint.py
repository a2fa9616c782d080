"""tools/test.py CONFIG CKPT: the checkpoint holds every weight and is loaded strictly; exports
need only the config and the checkpoint (#13)."""

import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmpointsam.registry import MODELS
from mmpointsam.utils import register_all_modules
from mmpointsam.utils.model_checkpoint import weights_from_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10') + '/'
TINY = [
    'model.sam.arch=tiny',
    'model.sam.img_size=256',
    'model.data_preprocessor.img_size=256',
    'model.sam.lora.first_block=1',
    'model.self_training.prototype_loss.dim=32',
]
DATA_OPTS = [
    f'test_dataloader.dataset.data_root={DATA}',
    'test_dataloader.dataset.ann_file=annotations/val.json',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
]


def _trained_pointsam(tmp_path):
    """What tools/train.py saves for configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py (tiny):
    the full state dict, target prototypes included; neither the SAM file nor the prototype file
    exists here."""
    register_all_modules()
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py'))
    assert not osp.exists(osp.join(REPO, cfg.model.sam.init_cfg.checkpoint))
    assert not osp.exists(osp.join(REPO, cfg.model.self_training.prototype_loss.target_prototypes))
    cfg.model.sam.arch = 'tiny'
    cfg.model.sam.img_size = cfg.model.data_preprocessor.img_size = 256
    cfg.model.sam.lora.first_block = 1
    cfg.model.self_training.prototype_loss.dim = 32
    weights_from_checkpoint(cfg)
    model = MODELS.build(cfg.model)
    model.self_training.prototype_loss.set_targets(torch.randn(5, 32))
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), path)
    return model, path


def _test_tool(ckpt, work_dir):
    cmd = [
        sys.executable,
        'tools/test.py',
        'configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py',
        ckpt,
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        *TINY,
        *DATA_OPTS,
    ]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


def test_readme_form_loads_every_weight_without_sam_or_prototype_files(tmp_path):
    _, ckpt = _trained_pointsam(tmp_path)
    proc = _test_tool(ckpt, tmp_path / 'ok')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f'loaded {ckpt} strictly' in out
    assert 'RANDOM' not in out and re.search(r'Epoch\(test\).*sam/mIoU', out)


def test_checkpoint_of_another_layout_is_an_error(tmp_path):
    model, _ = _trained_pointsam(tmp_path)
    # an official-SAM-layout file (no "sam." prefix) given as the training checkpoint
    plain = str(tmp_path / 'plain_sam.pth')
    torch.save(model.sam.state_dict(), plain)
    proc = _test_tool(plain, tmp_path / 'bad')
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # named by the input check, before the model is built (#25)
    assert f'{plain}: checkpoint: an official SAM/MobileSAM/SAM 2 file, not a checkpoint ' in out
    assert 'give it with --sam-checkpoint' in out
    assert not re.search(r'Epoch\(test\).*sam/mIoU', out)  # nothing was evaluated


def test_merge_lora_needs_only_config_and_checkpoint(tmp_path):
    model, ckpt = _trained_pointsam(tmp_path)
    out = tmp_path / 'sam_export.pth'
    cmd = [
        sys.executable,
        'tools/model_converters/merge_lora.py',
        'configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py',
        ckpt,
        str(out),
        '--cfg-options',
        *TINY,
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(str(out))
    assert set(state) == set(model.sam.export_state_dict())
    assert not any('prototype' in k for k in state)


def test_merge_lora_rejects_a_partial_checkpoint(tmp_path):
    model, _ = _trained_pointsam(tmp_path)
    lora_only = str(tmp_path / 'lora_only.pth')
    torch.save(
        dict(state_dict={k: v for k, v in model.state_dict().items() if 'lora_' in k}), lora_only
    )
    cmd = [
        sys.executable,
        'tools/model_converters/merge_lora.py',
        'configs/pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py',
        lora_only,
        str(tmp_path / 'x.pth'),
        '--cfg-options',
        *TINY,
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and 'missing keys' in proc.stderr
    assert not (tmp_path / 'x.pth').exists()


def test_point2rbox_converter_loads_the_training_checkpoint_strictly(tmp_path):
    from mmpointsam.apis import Point2RBoxConverter

    model, ckpt = _trained_pointsam(tmp_path)
    options = {
        'model.sam.arch': 'tiny',
        'model.sam.img_size': 256,
        'model.data_preprocessor.img_size': 256,
        'model.sam.lora.first_block': 1,
        'model.self_training.prototype_loss.dim': 32,
    }
    converter = Point2RBoxConverter.from_config(
        osp.join(REPO, 'configs', 'pointsam/pointsam_sam-vit-b-lora_10e_nwpu.py'),
        checkpoint=ckpt,
        cfg_options=options,
    )
    loaded = converter.model.state_dict()
    assert all(torch.equal(v, loaded[k]) for k, v in model.state_dict().items())
    # a config without LoRA cannot silently drop the checkpoint's LoRA weights
    direct = {k: v for k, v in options.items() if 'lora' not in k and 'self_training' not in k}
    with pytest.raises(RuntimeError, match=f'{re.escape(ckpt)} is not a checkpoint.*unexpected'):
        Point2RBoxConverter.from_config(
            osp.join(REPO, 'configs', 'sam_direct/sam-direct_sam-vit-b_nwpu.py'),
            checkpoint=ckpt,
            cfg_options=direct,
        )


def test_checkpoint_without_the_averaged_teacher_loads_with_a_warning(tmp_path):
    """A checkpoint trained with the current-weights teacher (before PointSAM defaulted to an
    EMA one) has no teacher keys: it loads into today's model, the teacher unstarted (it copies
    the student at its first update); a missing student key is still an error."""
    from mmpointsam.utils.model_checkpoint import TEACHER_PREFIX, load_model_checkpoint

    model, _ = _trained_pointsam(tmp_path)
    state = model.state_dict()
    student = {k: v for k, v in state.items() if not k.startswith(TEACHER_PREFIX)}
    assert len(student) < len(state)  # the default config has an averaged teacher
    old = str(tmp_path / 'current_teacher.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=student), old)
    (tmp_path / 'fresh').mkdir()
    fresh, _ = _trained_pointsam(tmp_path / 'fresh')
    load_model_checkpoint(fresh, old)
    assert not bool(fresh.self_training.teacher.started)
    for k, v in student.items():
        assert torch.equal(fresh.state_dict()[k], v), k
    partial = str(tmp_path / 'partial.pth')
    lora = next(k for k in student if 'lora_' in k)
    torch.save(dict(state_dict={k: v for k, v in student.items() if k != lora}), partial)
    with pytest.raises(RuntimeError, match=re.escape(lora)):
        load_model_checkpoint(fresh, partial)
