"""Every tool checks all its inputs before the model is built and before anything is written,
and reports every fault at once (#25). "Before the model is built" is asserted structurally: the
tool's model builder (MMEngine's Runner, the point -> rbox converter) is replaced by a spy that
fails the test if it is reached."""

import importlib.util
import json
import os
import os.path as osp
import shutil
import sys

import pytest
import torch

from mmpointsam.models.sam import build_sam
from mmpointsam.utils.input_checks import InputError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data', 'nwpu_vhr10')
# the configs used here, named once (the configs/<method>/ move renames them here only)
DIRECT_CONFIG = osp.join(REPO, 'configs', 'sam_direct', 'sam-direct_mobilesam-vit-t_nwpu.py')
TRAIN_CONFIG = osp.join(REPO, 'configs', 'supervised', 'supervised_sam-vit-b-lora_10e_nwpu.py')
TINY = ['model.sam.arch=tiny', 'model.sam.img_size=256', 'model.data_preprocessor.img_size=256']


def _tool(path: str):
    """Import a tool script as a module (its main() reads sys.argv)."""
    name = 'tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuilderReached(AssertionError):
    pass


class _NoBuild:
    """Stands in for a model builder that must not be reached."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise BuilderReached(f'the model builder was called ({name}) before the inputs failed')

        return fail

    def __call__(self, *args, **kwargs):
        raise BuilderReached('the model builder was called before the inputs failed')


def _run(monkeypatch, module, argv):
    monkeypatch.setattr(sys, 'argv', [module.__file__] + [str(a) for a in argv])
    return module.main()


@pytest.fixture
def dataset(tmp_path):
    """A copy of the real NWPU test subset that a test may damage."""
    root = tmp_path / 'nwpu'
    shutil.copytree(DATA, root)
    return root


def _data_opts(root, split='test', ann='val.json'):
    return [
        f'{split}_dataloader.dataset.data_root={root}/',
        f'{split}_dataloader.dataset.ann_file=annotations/{ann}',
        f'{split}_dataloader.num_workers=0',
        f'{split}_dataloader.persistent_workers=False',
    ]


def _truncate(path, keep=0.6):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# ---------------------------------------------------------------- tools/test.py


def test_test_tool_names_a_truncated_jpeg_and_a_missing_image_before_building(
    dataset, tmp_path, monkeypatch
):
    _truncate(dataset / 'images' / '189.jpg')  # weak case 1: mmcv would fail mid-run
    os.remove(dataset / 'images' / '268.jpg')
    tool = _tool('tools/test.py')
    monkeypatch.setattr(tool, 'Runner', _NoBuild())
    work = tmp_path / 'work'
    argv = [DIRECT_CONFIG, '--sam-checkpoint', 'none', '--work-dir', work, '--cfg-options']
    with pytest.raises(InputError) as excinfo:
        _run(monkeypatch, tool, argv + TINY + _data_opts(dataset))
    msg = str(excinfo.value)
    assert msg.startswith('2 faults in the inputs')
    ann = str(dataset / 'annotations' / 'val.json')
    line = next(x for x in msg.splitlines() if '189.jpg' in x)
    assert ann in line and "image '189.jpg' (id 188)" in line
    assert 'truncated or corrupt JPEG image' in line and 'decoding fails' in line
    assert f'image file not found: {dataset}/images/268.jpg' in msg
    assert not work.exists()


def test_test_tool_empty_checkpoint_is_named(dataset, tmp_path, monkeypatch):
    empty = tmp_path / 'epoch_1.pth'
    empty.touch()  # weak case 4: torch.load gave a bare EOFError
    tool = _tool('tools/test.py')
    monkeypatch.setattr(tool, 'Runner', _NoBuild())
    argv = [DIRECT_CONFIG, empty, '--work-dir', tmp_path / 'work', '--cfg-options']
    with pytest.raises(InputError, match=rf'^{empty}: checkpoint: empty or truncated checkpoint'):
        _run(monkeypatch, tool, argv + TINY + _data_opts(dataset))
    assert not (tmp_path / 'work').exists()


def test_test_tool_check_only_exits_0_on_good_inputs_and_1_on_faults(
    dataset, tmp_path, monkeypatch, capsys
):
    tool = _tool('tools/test.py')
    monkeypatch.setattr(tool, 'Runner', _NoBuild())
    argv = [DIRECT_CONFIG, '--sam-checkpoint', 'none', '--check-only', '--cfg-options']
    argv += TINY + _data_opts(dataset)
    with pytest.raises(SystemExit) as excinfo:
        _run(monkeypatch, tool, argv)
    assert excinfo.value.code == 0
    assert '1 COCO json, 4 image files' in capsys.readouterr().out
    _truncate(dataset / 'images' / '018.jpg')
    with pytest.raises(SystemExit) as excinfo:
        _run(monkeypatch, tool, argv)
    assert excinfo.value.code == 1
    assert "image '018.jpg' (id 17): truncated or corrupt JPEG" in capsys.readouterr().out


# ---------------------------------------------------------------- tools/point2rbox.py


@pytest.fixture
def points(tmp_path):
    from mmpointsam.datasets import sample_point_labels

    path = tmp_path / 'points.json'
    sample_point_labels(osp.join(DATA, 'annotations', 'val.json'), str(path), seed=0)
    return path


def _edit(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))
    return data


def _point2rbox(monkeypatch, tmp_path, point_json, *extra):
    tool = _tool('tools/point2rbox.py')
    monkeypatch.setattr(tool, 'point2rbox', _NoBuild())
    out = tmp_path / 'pseudo'
    argv = [DIRECT_CONFIG, point_json, osp.join(DATA, 'images'), out, *extra]
    with pytest.raises(InputError) as excinfo:
        _run(monkeypatch, tool, argv)
    assert not out.exists()  # no settings.json, no txt, no progress record
    return str(excinfo.value)


def test_point2rbox_string_image_id(points, tmp_path, monkeypatch):
    # weak case 2: a raw "invalid literal for int()" after inference, settings.json written
    def edit(data):
        data['images'][1]['id'] = '../../x'
        for ann in data['annotations']:
            if ann['image_id'] == 267:
                ann['image_id'] = '../../x'

    _edit(points, edit)
    msg = _point2rbox(monkeypatch, tmp_path, points, '--sam-checkpoint', 'none')
    assert f"{points}: image #1 ('268.jpg'): id must be an integer, got '../../x'" in msg
    assert "image_id must be an integer, got '../../x'" in msg


def test_point2rbox_duplicate_annotation_ids(points, tmp_path, monkeypatch):
    # weak case 3: found only after an image's txt and progress record were written
    data = _edit(points, lambda d: d['annotations'][5].update(id=d['annotations'][2]['id']))
    dup = data['annotations'][2]['id']
    msg = _point2rbox(monkeypatch, tmp_path, points, '--sam-checkpoint', 'none')
    assert msg == f'{points}: annotation id {dup} appears 2 times (ids must be unique)'


def test_point2rbox_reports_every_fault_at_once_up_to_the_limit(points, tmp_path, monkeypatch):
    def edit(data):
        for ann in data['annotations'][:21]:
            ann['points'] = [[5000, 5000]]
        data['annotations'][0]['id'] = data['annotations'][1]['id']

    _edit(points, edit)
    msg = _point2rbox(monkeypatch, tmp_path, points, '--sam-checkpoint', 'none')
    lines = msg.splitlines()
    assert lines[0] == '22 faults in the inputs:'
    assert len(lines) == 1 + 20 + 1 and lines[-1] == '  ... and 2 more'
    assert lines[1].endswith('appears 2 times (ids must be unique)')
    assert 'points [[5000, 5000]] lie outside the 973x737 image' in lines[2]


def test_point2rbox_empty_sam_checkpoint(points, tmp_path, monkeypatch):
    empty = tmp_path / 'mobile_sam.pt'
    empty.touch()
    msg = _point2rbox(monkeypatch, tmp_path, points, '--sam-checkpoint', empty)
    assert msg == f'{empty}: SAM checkpoint: empty or truncated checkpoint (0 bytes)'


def test_point2rbox_sam_file_of_another_arch_and_a_training_checkpoint(
    points, tmp_path, monkeypatch
):
    tiny = build_sam(dict(arch='tiny', img_size=256)).state_dict()
    sam_file = tmp_path / 'sam_tiny.pth'
    torch.save(tiny, sam_file)
    # the config builds vit_t (MobileSAM): the file's arch is named, before any build
    msg = _point2rbox(monkeypatch, tmp_path, points, '--sam-checkpoint', sam_file)
    assert f"{sam_file}: SAM checkpoint: holds SAM arch='tiny' weights" in msg
    assert "the config builds SAM(arch='vit_t', img_size=1024)" in msg
    # a training checkpoint given as --sam-checkpoint, an official file as --checkpoint
    train_file = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta={}, state_dict={f'sam.{k}': v for k, v in tiny.items()}), train_file)
    msg = _point2rbox(monkeypatch, tmp_path, points, '--sam-checkpoint', train_file)
    assert 'a training checkpoint saved by tools/train.py' in msg
    msg = _point2rbox(monkeypatch, tmp_path, points, '--checkpoint', sam_file)
    assert 'an official SAM/MobileSAM/SAM 2 file, not a checkpoint saved by tools/train.py' in msg


# ---------------------------------------------------------------- tools/train.py


class _SpyRunner:
    """Records the config the tool would build its Runner from; trains nothing."""

    cfg = None

    @classmethod
    def from_cfg(cls, cfg):
        cls.cfg = cfg
        return cls()

    def train(self):
        pass


def _train(monkeypatch, tmp_path, *extra, runner=_NoBuild(), options=()):
    tool = _tool('tools/train.py')
    monkeypatch.setattr(tool, 'Runner', runner)
    argv = [TRAIN_CONFIG, '--sam-checkpoint', 'none', '--work-dir', tmp_path / 'work', *extra]
    opts = TINY + _data_opts(DATA, 'train', 'train.json') + _data_opts(DATA, 'val', 'val.json')
    return _run(monkeypatch, tool, argv + ['--cfg-options'] + opts + list(options))


def test_train_resume_without_a_checkpoint_is_an_error(tmp_path, monkeypatch):
    # weak case 7: "Auto resumed from the latest checkpoint None", trained from scratch, exit 0
    with pytest.raises(InputError, match=r'--resume: no checkpoint to resume from in the work dir'):
        _train(monkeypatch, tmp_path, '--resume')
    with pytest.raises(InputError, match=r'--resume .*nope\.pth: checkpoint not found'):
        _train(monkeypatch, tmp_path, '--resume', tmp_path / 'nope.pth')
    assert not (tmp_path / 'work').exists()


def test_train_resume_auto_starts_from_scratch_or_resumes_the_latest(tmp_path, monkeypatch):
    spy = type('Spy', (_SpyRunner,), {})
    _train(monkeypatch, tmp_path, '--resume', 'auto', runner=spy)
    assert not spy.cfg.resume and spy.cfg.load_from is None  # nothing there: from scratch
    work = tmp_path / 'work'
    work.mkdir()
    ckpt = work / 'epoch_1.pth'
    tiny = build_sam(dict(arch='tiny', img_size=256)).state_dict()
    torch.save(dict(meta={}, state_dict={f'sam.{k}': v for k, v in tiny.items()}), ckpt)
    (work / 'last_checkpoint').write_text(str(ckpt))
    for resume in ('auto', None):  # --resume auto and --resume alone
        _train(monkeypatch, tmp_path, '--resume', *([resume] if resume else []), runner=spy)
        assert spy.cfg.resume and spy.cfg.load_from == str(ckpt)


def test_train_truncated_resume_checkpoint_is_named(tmp_path, monkeypatch):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'epoch_1.pth').write_bytes(b'PK\x03\x04' + b'\0' * 100)  # cut off after its start
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    with pytest.raises(InputError, match=r'epoch_1\.pth: --resume checkpoint: empty or truncated'):
        _train(monkeypatch, tmp_path, '--resume')


def test_train_cfg_option_consumed_at_load_time_names_the_key_to_set(tmp_path, monkeypatch):
    # weak case 5: saved in the config, silently no effect (10 epochs trained)
    tool = _tool('tools/train.py')
    monkeypatch.setattr(tool, 'Runner', _NoBuild())
    argv = [TRAIN_CONFIG, '--work-dir', tmp_path / 'work', '--cfg-options', 'max_epochs=1']
    with pytest.raises(ValueError) as excinfo:
        _run(monkeypatch, tool, argv)
    msg = str(excinfo.value)
    assert msg.startswith("--cfg-options max_epochs=1: 'max_epochs' is a variable that ")
    assert 'configs/_base_/schedules/adam_10e.py used when the config was read' in msg
    assert 'Set param_scheduler.1.end=1 train_cfg.max_epochs=1 instead.' in msg
    assert not (tmp_path / 'work').exists()
    # the keys it names work, together with the variable or not
    spy = type('Spy', (_SpyRunner,), {})
    keys = ['train_cfg.max_epochs=1', 'param_scheduler.1.end=1']
    for options in (keys, keys + ['max_epochs=1']):
        _train(monkeypatch, tmp_path, runner=spy, options=options)
        assert spy.cfg.train_cfg.max_epochs == 1 and spy.cfg.param_scheduler[1].end == 1
    # a top-level variable the tools apply after loading stays allowed
    _train(monkeypatch, tmp_path, runner=spy, options=['num_points=2'])
    assert spy.cfg.train_dataloader.dataset.pipeline[3].num_points == 2


# ---------------------------------------------------------------- tools/misc/check_inputs.py


def test_check_inputs_tool_lists_every_fault_and_exits_1(
    points, dataset, tmp_path, monkeypatch, capsys
):
    _edit(points, lambda d: d['annotations'][3].update(id=d['annotations'][4]['id']))
    _truncate(dataset / 'images' / '305.jpg')
    empty = tmp_path / 'empty.pth'
    empty.touch()
    tool = _tool('tools/misc/check_inputs.py')
    argv = [DIRECT_CONFIG, '--splits', '--points', points, '--img-dir', dataset / 'images']
    argv += ['--checkpoint', empty]
    with pytest.raises(SystemExit) as excinfo:
        _run(monkeypatch, tool, argv)
    out = capsys.readouterr().out
    assert excinfo.value.code == 1
    assert 'point-label json' in out and '3 faults' in out
    assert 'appears 2 times' in out and '305.jpg' in out and 'empty or truncated checkpoint' in out
    argv = [DIRECT_CONFIG, '--splits', 'test', '--sam-checkpoint', 'none', '--cfg-options']
    with pytest.raises(SystemExit) as excinfo:
        _run(monkeypatch, tool, argv + _data_opts(DATA))
    assert excinfo.value.code == 0
    assert 'inputs checked (1 COCO json, 4 image files): no fault' in capsys.readouterr().out


# ---------------------------------------------------------------- demo, merge_lora


def test_image_demo_names_a_truncated_image_and_an_empty_checkpoint(tmp_path, monkeypatch):
    img = tmp_path / '414.jpg'
    data = open(osp.join(DATA, 'images', '414.jpg'), 'rb').read()
    img.write_bytes(data[: len(data) // 2])
    empty = tmp_path / 'mobile_sam.pt'
    empty.touch()
    tool = _tool('demo/image_demo.py')
    monkeypatch.setattr(tool, 'PointSAMInferencer', _NoBuild())
    out = tmp_path / 'out'
    argv = [img, '--points', '10,10', '--checkpoint', empty, '--out', out]
    monkeypatch.setattr(sys, 'argv', ['image_demo.py'] + [str(a) for a in argv])
    with pytest.raises(InputError) as excinfo:
        tool.main()
    lines = str(excinfo.value).splitlines()
    assert lines[0] == '2 faults in the inputs:'
    assert lines[1].startswith(f'  {img}: truncated or corrupt JPEG image')
    assert lines[2] == f'  {empty}: checkpoint: empty or truncated checkpoint (0 bytes)'
    assert not out.exists()


def test_merge_lora_names_an_empty_checkpoint_before_building(tmp_path, monkeypatch):
    empty = tmp_path / 'epoch_10.pth'
    empty.touch()
    tool = _tool('tools/model_converters/merge_lora.py')
    monkeypatch.setattr(tool, 'MODELS', _NoBuild())
    out = tmp_path / 'sam_merged.pth'
    with pytest.raises(InputError, match=rf'^{empty}: checkpoint: empty or truncated checkpoint'):
        tool.merge_lora(TRAIN_CONFIG, str(empty), str(out))
    assert not out.exists()
