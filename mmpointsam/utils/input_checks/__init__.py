"""Check a tool's input files before any model is built or any output written.

Every tool calls this first: annotation files (point-label json, COCO instance json, click CSV,
DOTA labelTxt folders), the image files they name (header and end only) and checkpoint files
(readable, and of the layout the tool needs). All faults are collected and reported at once, each
with its file, record and value, so that a user fixes a dataset in one round instead of one
30-second model build per fault.

Images are checked cheaply: PIL reads the header (format, size; compared with the annotation's
size), and the last :data:`IMAGE_TAIL` bytes are searched for the format's end marker (JPEG's
end-of-image ``FF D9``, PNG's ``IEND`` chunk) or, for TIFF, the strip/tile offsets are compared
with the file size. Only a file that fails that test is decoded in full, to tell a truncated file
(fault) from a valid one with trailing data (accepted). Checkpoints are opened as zip archives
(a truncated torch file has no zip directory) and memory-mapped (``torch.load(mmap=True)``), so
their keys and shapes are read without reading their tensors.
"""

import glob
import json
import math
import os.path as osp
import sys
import zipfile
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

MAX_FAULTS = 20
IMAGE_TAIL = 4096
# the end markers whose absence in the last IMAGE_TAIL bytes makes a file suspect
END_MARKERS = {'JPEG': b'\xff\xd9', 'MPO': b'\xff\xd9', 'PNG': b'IEND'}
CHECKPOINT_ROLES = ('sam', 'model', 'resume', 'prototypes', 'any')
IMG_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


class InputError(ValueError):
    """Input files a tool cannot use; the message lists each fault (file: record: fault)."""


class FaultReport:
    """The faults found in a tool's inputs and a count of what was checked.

    Args:
        limit: faults listed in the message; the rest are counted ("... and N more").
    """

    def __init__(self, limit: int = MAX_FAULTS) -> None:
        self.limit = limit
        self.faults: List[Tuple[str, Optional[str], str]] = []
        self.checked: Dict[str, int] = Counter()

    def add(self, file: str, fault: str, record: Optional[str] = None) -> None:
        """One fault: ``file``, the ``record`` in it (None: the file as a whole) and what is wrong
        (with the value found)."""
        self.faults.append((str(file), record, fault))

    def count(self, what: str, num: int = 1) -> None:
        """Say that ``num`` inputs of kind ``what`` (e.g. 'image files') were checked."""
        self.checked[what] += num

    def __len__(self) -> int:
        return len(self.faults)

    def lines(self) -> List[str]:
        return [
            f'{file}: {record}: {fault}' if record else f'{file}: {fault}'
            for file, record, fault in self.faults
        ]

    def message(self) -> str:
        lines = self.lines()
        if len(lines) == 1:
            return lines[0]
        shown = lines[: self.limit]
        text = f'{len(lines)} faults in the inputs:\n' + '\n'.join(f'  {line}' for line in shown)
        if len(lines) > len(shown):
            text += f'\n  ... and {len(lines) - len(shown)} more'
        return text

    def summary(self) -> str:
        """What was checked and found, e.g. 'inputs checked (1 point-label json, 130 image
        files): no fault'."""
        what = ', '.join(f'{n} {kind}' for kind, n in self.checked.items()) or 'nothing'
        if not self.faults:
            return f'inputs checked ({what}): no fault'
        return f'inputs checked ({what}):\n{self.message()}'

    def raise_if_any(self) -> None:
        if self.faults:
            raise InputError(self.message())


def finish(report: FaultReport, check_only: bool = False, tool: str = '') -> None:
    """End of a tool's input check: raise :class:`InputError` on faults; with ``check_only``
    print the outcome and exit (0: no fault, 1: faults) instead of going on."""
    if check_only:
        print(f'{tool}: {report.summary()}' if tool else report.summary())
        sys.exit(1 if report.faults else 0)
    report.raise_if_any()


# ---------------------------------------------------------------- values


def is_int(value) -> bool:
    """An integer id (bool is not one, nor 3.0 nor '3')."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_size(value) -> bool:
    """A positive whole number of pixels (1030 or 1030.0)."""
    return is_number(value) and value > 0 and float(value).is_integer()


def duplicates(values: Iterable) -> Dict[object, int]:
    """Values that occur more than once and how often (hashable values only)."""
    counts = Counter(v for v in values if isinstance(v, (int, str)) and not isinstance(v, bool))
    return {v: n for v, n in counts.items() if n > 1}


# ---------------------------------------------------------------- images


def _tiff_truncated(img, size: int) -> bool:
    """Whether a TIFF's strips or tiles end after the end of the file (header tags only)."""
    tags = getattr(img, 'tag_v2', None)
    if tags is None:
        return False
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):  # strips, tiles
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, (tuple, list)) else (offsets,)
        counts = counts if isinstance(counts, (tuple, list)) else (counts,)
        if any(int(o) + int(c) > size for o, c in zip(offsets, counts)):
            return True
    return False


def _decodes(path: str) -> Optional[str]:
    """Decode a whole image with PIL; None if it decodes, else the error."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError... on broken data
        return str(e) or type(e).__name__
    return None


def inspect_image(path: str) -> Tuple[Optional[int], Optional[int], Optional[str]]:
    """(width, height, fault) of an image file; fault (None: none) says what is wrong: missing,
    empty, unreadable header, or truncated (see the module's docstring for how it is told)."""
    from PIL import Image, UnidentifiedImageError

    if not osp.isfile(path):
        return None, None, f'image file not found: {path}'
    size = osp.getsize(path)
    if size == 0:
        return None, None, f'empty image file (0 bytes): {path}'
    try:
        with Image.open(path) as img:
            fmt, (w, h) = img.format, img.size
            suspect = fmt == 'TIFF' and _tiff_truncated(img, size)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        # PIL does not know every format OpenCV (mmcv's loader) reads: ask OpenCV before failing
        import cv2

        decoded = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if decoded is None:
            return None, None, f'unreadable image (corrupt or not an image; PIL: {e}): {path}'
        fmt, (h, w), suspect = None, decoded.shape[:2], False
    marker = END_MARKERS.get(fmt)
    if marker is not None:
        with open(path, 'rb') as f:
            f.seek(max(0, size - IMAGE_TAIL))
            suspect = marker not in f.read()
    if suspect:
        error = _decodes(path)
        if error is not None:
            return (
                w,
                h,
                f'truncated or corrupt {fmt} image ({size} bytes; decoding fails: {error}): {path}',
            )
    return w, h, None


def image_fault(
    path: str, width: Optional[int] = None, height: Optional[int] = None
) -> Optional[str]:
    """What is wrong with an image file (:func:`inspect_image`), or that its size is not the
    ``width`` x ``height`` its annotation declares; None if nothing."""
    w, h, fault = inspect_image(path)
    if fault is None and width is not None and height is not None and (w, h) != (width, height):
        fault = f'the image is {w}x{h} (w x h) but its annotation declares {width}x{height}: {path}'
    return fault


def check_images(
    report: FaultReport, annotation_file: str, images: Sequence[dict], img_dir: str
) -> None:
    """Check the files of COCO image dicts (``file_name``, ``width``, ``height``, ``id``)."""
    for img in images:
        name = img.get('file_name')
        if not isinstance(name, str) or not name:
            continue  # a schema fault, reported by the annotation check
        w, h = img.get('width'), img.get('height')
        sized = is_size(w) and is_size(h)
        fault = image_fault(
            osp.join(img_dir, name), int(w) if sized else None, int(h) if sized else None
        )
        if fault:
            report.add(annotation_file, fault, f'image {name!r} (id {img.get("id")!r})')
    report.count('image files', len(images))


# ---------------------------------------------------------------- annotation files


def _load_json(report: FaultReport, path: str, what: str) -> Optional[dict]:
    if not osp.isfile(path):
        report.add(path, f'{what} not found')
        return None
    try:
        with open(path, encoding='utf-8-sig') as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        report.add(path, f'not a valid json file ({e})')
        return None
    if not isinstance(data, dict):
        report.add(path, f'not a {what} (a json {type(data).__name__}, not an object)')
        return None
    missing = [
        k for k in ('images', 'annotations', 'categories') if not isinstance(data.get(k), list)
    ]
    if missing:
        report.add(path, f'not a {what}: no list {missing}')
        return None
    report.count(what)
    return data


def coco_schema_faults(data: dict) -> List[Tuple[Optional[str], str]]:
    """(record, fault) of the id structure every COCO-style file shares: integer, unique image,
    annotation and category ids; annotations of images and categories the file lists; images
    with a file name and a positive integer size."""
    faults = []
    cat_ids = []
    for k, cat in enumerate(data['categories']):
        if not isinstance(cat, dict) or not is_int(cat.get('id')):
            value = cat.get('id') if isinstance(cat, dict) else cat
            faults.append((f'category #{k}', f'id must be an integer, got {value!r}'))
            continue
        cat_ids.append(cat['id'])
    for cid, n in duplicates(cat_ids).items():
        faults.append((None, f'category id {cid!r} appears {n} times (ids must be unique)'))
    img_ids, names = [], []
    for k, img in enumerate(data['images']):
        if not isinstance(img, dict):
            faults.append((f'image #{k}', f'not an object: {img!r}'))
            continue
        record = f'image #{k} ({img.get("file_name")!r})'
        if not is_int(img.get('id')):
            faults.append((record, f'id must be an integer, got {img.get("id")!r}'))
        else:
            img_ids.append(img['id'])
        if not isinstance(img.get('file_name'), str) or not img.get('file_name'):
            faults.append((record, f'no file_name (got {img.get("file_name")!r})'))
        else:
            names.append(img['file_name'])
        w, h = img.get('width'), img.get('height')
        if not (is_size(w) and is_size(h)):
            faults.append(
                (record, f'width and height must be positive whole numbers, got {w!r} x {h!r}')
            )
    for iid, n in duplicates(img_ids).items():
        faults.append((None, f'image id {iid!r} appears {n} times (ids must be unique)'))
    for name, n in duplicates(names).items():
        faults.append((None, f'file_name {name!r} appears in {n} images'))
    images, cats = set(img_ids), set(cat_ids)
    ann_ids = []
    for k, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict):
            faults.append((f'annotation #{k}', f'not an object: {ann!r}'))
            continue
        record = f'annotation id {ann.get("id")!r} (#{k})'
        if not is_int(ann.get('id')):
            faults.append((record, f'id must be an integer, got {ann.get("id")!r}'))
        else:
            ann_ids.append(ann['id'])
        image_id = ann.get('image_id')
        if not is_int(image_id):
            faults.append((record, f'image_id must be an integer, got {image_id!r}'))
        elif image_id not in images:
            faults.append((record, f'image_id {image_id} is not the id of an image of the file'))
        if ann.get('category_id') not in cats:
            faults.append(
                (record, f'category_id {ann.get("category_id")!r} is not in "categories"')
            )
    for aid, n in duplicates(ann_ids).items():
        faults.append((None, f'annotation id {aid!r} appears {n} times (ids must be unique)'))
    return faults


def check_point_json(
    report: FaultReport,
    path: str,
    img_dir: Optional[str] = None,
    img_ids: Optional[Sequence[int]] = None,
    annotated_only: bool = False,
) -> Optional[dict]:
    """Check a point-label json (schema: :func:`point_label_faults`) and, with ``img_dir``, its
    images (only ``img_ids`` if given; only images with points if ``annotated_only``)."""
    from mmpointsam.datasets.point_labels import point_label_faults

    data = _load_json(report, path, 'point-label json')
    if data is None:
        return None
    faults = point_label_faults(data)
    for record, fault in faults:
        report.add(path, fault, record)
    if img_dir is not None:
        images = [i for i in data['images'] if isinstance(i, dict)]
        if img_ids is not None:
            images = [i for i in images if i.get('id') in set(img_ids)]
        if annotated_only:
            used = {a.get('image_id') for a in data['annotations'] if isinstance(a, dict)}
            images = [i for i in images if i.get('id') in used]
        check_images(report, path, images, img_dir)
    return data


def check_coco_json(
    report: FaultReport,
    path: str,
    img_dir: Optional[str] = None,
    classes: Optional[Sequence[str]] = None,
    masks: bool = False,
) -> Optional[dict]:
    """Check a COCO instance json: the id structure (:func:`coco_schema_faults`), boxes; with
    ``masks`` the polygons as :class:`CocoInstanceDataset` checks them; with ``classes`` that
    every annotation's category is one of them; with ``img_dir`` the image files."""
    data = _load_json(report, path, 'COCO json')
    if data is None:
        return None
    for record, fault in coco_schema_faults(data):
        report.add(path, fault, record)
    images = {i.get('id'): i for i in data['images'] if isinstance(i, dict)}
    names = {c.get('id'): c.get('name') for c in data['categories'] if isinstance(c, dict)}
    if classes is not None:
        unknown = sorted({str(n) for n in names.values()} - set(classes))
        used = {a.get('category_id') for a in data['annotations'] if isinstance(a, dict)}
        used_unknown = [n for cid, n in names.items() if n in unknown and cid in used]
        if used_unknown:
            report.add(
                path,
                f'annotations of categories {used_unknown}, which are not among the '
                f"dataset's classes {tuple(classes)}",
            )
    if masks:
        from mmpointsam.datasets.coco_instance import CocoInstanceDataset

        for ann in data['annotations']:
            if not isinstance(ann, dict) or ann.get('image_id') not in images:
                continue
            img = images[ann['image_id']]
            w, h = img.get('width'), img.get('height')
            if not (is_number(w) and is_number(h)):
                continue
            record = (
                f'image {img.get("file_name")!r} (image id {img.get("id")}), '
                f'annotation id {ann.get("id")}'
            )
            for fault in CocoInstanceDataset.annotation_faults(ann, w, h):
                report.add(path, fault, record)
    if img_dir is not None:
        check_images(report, path, list(images.values()), img_dir)
    return data


def check_rbox_json(report: FaultReport, path: str) -> Optional[dict]:
    """Check a rotated-box COCO json (``segmentation`` one 4-corner polygon per annotation)."""
    data = _load_json(report, path, 'rotated-box json')
    if data is None:
        return None
    for record, fault in coco_schema_faults(data):
        report.add(path, fault, record)
    for ann in data['annotations']:
        if not isinstance(ann, dict):
            continue
        seg = ann.get('segmentation')
        if not (
            isinstance(seg, list)
            and len(seg) == 1
            and isinstance(seg[0], list)
            and len(seg[0]) == 8
            and all(is_number(v) for v in seg[0])
        ):
            report.add(
                path,
                'segmentation is not one 4-corner polygon [[x1, y1, ..., x4, y4]] (for masks or '
                'DOTA quadrilaterals, write rotated boxes first: gt_rboxes.py)',
                f'annotation id {ann.get("id")!r}',
            )
    return data


def check_dota_dir(
    report: FaultReport, label_dir: str, img_dir: Optional[str], classes=None, img_suffix=None
) -> None:
    """Check a DOTA ``labelTxt`` folder: every line parses, classes are known, each txt has its
    image (``img_suffix``, or any image extension) and that image reads."""
    from mmpointsam.fileio.dota_txt import DotaTxtError, load_dota_txt

    if not osp.isdir(label_dir):
        report.add(label_dir, 'DOTA label folder not found')
        return
    txts = sorted(glob.glob(osp.join(label_dir, '*.txt')))
    if not txts:
        report.add(label_dir, 'no DOTA label files (*.txt) in the folder')
    for txt in txts:
        try:
            _, names, _ = load_dota_txt(txt)
        except DotaTxtError as e:
            for line, fault in e.faults:
                report.add(txt, fault, f'line {line}')
            names = []
        if classes is not None:
            for name in sorted(set(names) - set(classes)):
                report.add(txt, f'class {name!r} is not one of {tuple(classes)}')
        if img_dir is not None:
            stem = osp.splitext(osp.basename(txt))[0]
            path = find_image(img_dir, stem, img_suffix)
            exts = img_suffix or '|'.join(e[1:] for e in IMG_EXTS)
            fault = image_fault(path) if path else f'no image {stem}.<{exts}> in {img_dir}'
            if fault:
                report.add(txt, fault)
    report.count('DOTA label files', len(txts))
    if img_dir is not None:
        report.count('image files', len(txts))


def find_image(img_dir: str, stem: str, suffix: Optional[str] = None) -> Optional[str]:
    """The image ``<stem>.<suffix>`` (or of any :data:`IMG_EXTS`) in ``img_dir``, or None."""
    exts = ['.' + suffix.lstrip('.')] if suffix else IMG_EXTS
    for ext in exts:
        path = osp.join(img_dir, stem + ext)
        if osp.isfile(path):
            return path
    return None


# ---------------------------------------------------------------- checkpoints


def _torch_file_fault(path: str) -> Optional[str]:
    """Missing, empty or truncated torch file, from its size and zip directory alone."""
    if not osp.isfile(path):
        return 'not found'
    size = osp.getsize(path)
    if size == 0:
        return 'empty or truncated checkpoint (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as e:
            return (
                f'empty or truncated checkpoint ({size} bytes; its zip directory is '
                f'unreadable: {e})'
            )
        end = max((i.header_offset + i.compress_size for i in infos), default=0)
        if end > size:
            return f'empty or truncated checkpoint ({size} bytes; its records need {end})'
    elif not head.startswith(b'\x80'):  # neither torch's zip format nor a legacy pickle
        return f'not a torch checkpoint (starts with {head!r})'
    return None


def _read_torch_file(path: str):
    """The object of a torch file without reading its tensors (memory-mapped); MMEngine's own
    types are allowed as in :func:`load_local_checkpoint`."""
    import torch

    from ..checkpoint_loading import mmengine_safe_globals

    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
        except RuntimeError as e:
            if 'mmap' not in str(e):
                raise
            # a legacy (non-zip) file cannot be memory-mapped: read it
            return torch.load(path, map_location='cpu', weights_only=True)


def _weights(obj) -> Tuple[Optional[dict], str]:
    """The weights of a checkpoint object and its kind: 'training' (MMEngine: ``state_dict``
    and ``meta``), 'sam2' (official SAM 2: ``model``) or 'plain' (a bare state dict)."""
    if not isinstance(obj, dict):
        return None, 'other'
    if isinstance(obj.get('state_dict'), dict):
        return obj['state_dict'], 'training'
    if isinstance(obj.get('model'), dict):
        return obj['model'], 'sam2'
    return obj, 'plain'


def _meta_sam(sam_cfg: dict):
    """A SAM of ``sam_cfg`` on the meta device: its keys and shapes, no memory, no weights."""
    import copy

    import torch
    from mmengine.registry import DefaultScope

    from mmpointsam.registry import MODELS

    cfg = copy.deepcopy(dict(sam_cfg))
    cfg['init_cfg'] = None
    with DefaultScope.overwrite_default_scope('mmpointsam'), torch.device('meta'):
        return MODELS.build(cfg)


def _sam_fit_fault(state: dict, sam_cfg: dict, path: str) -> Optional[str]:
    """Does a SAM state dict fit the SAM of ``sam_cfg``? The loader's own test
    (:meth:`PromptableSAMBase.check_state`) on a meta-device SAM, so the message is the one
    loading would give."""
    try:
        sam = _meta_sam(sam_cfg)
    except Exception:  # an arch that cannot be built on the meta device: loading checks it
        return None
    try:
        sam.check_state(state, path)
    except RuntimeError as e:
        return str(e).replace(f'{path} ', '', 1) if str(e).startswith(path) else str(e)
    return None


def check_checkpoint(
    report: FaultReport, path: str, role: str, sam_cfg: Optional[dict] = None, what: str = ''
) -> None:
    """Check a checkpoint file for its ``role``:

    - ``'sam'``: official SAM / MobileSAM / SAM 2 weights for ``model.sam`` (not a training
      checkpoint); with ``sam_cfg``, of that arch and size.
    - ``'model'``: a checkpoint saved by ``tools/train.py`` (``state_dict``), not an official
      SAM file; with ``sam_cfg``, its ``sam.*`` weights fit that SAM.
    - ``'resume'``: a training checkpoint.
    - ``'prototypes'``: a file of ``tools/compute_prototypes.py``.
    - ``'any'``: a readable torch file holding a state dict.
    """
    if role not in CHECKPOINT_ROLES:
        raise ValueError(f'role must be one of {CHECKPOINT_ROLES}, got {role!r}')
    label = what or {'sam': 'SAM checkpoint', 'prototypes': 'target prototypes'}.get(
        role, 'checkpoint'
    )
    if '://' in str(path):
        return  # a URL: read by MMEngine when the model loads
    fault = _torch_file_fault(path)
    if fault == 'not found' and role == 'sam':
        fault = (
            'not found. Download the official file (sam_vit_b_01ec64.pth, mobile_sam.pt, ...) '
            'there, pass --sam-checkpoint PATH, or --sam-checkpoint none for random weights'
        )
    elif fault == 'not found' and role == 'prototypes':
        fault = 'not found: make them with tools/compute_prototypes.py'
    if fault is None:
        try:
            obj = _read_torch_file(path)
        except (EOFError, RuntimeError, OSError, ValueError) as e:
            text = str(e) or type(e).__name__
            fault = (
                f'empty or truncated checkpoint ({text})'
                if isinstance(e, EOFError)
                or any(w in text for w in ('EOF', 'truncat', 'directory'))
                else f'unreadable checkpoint: {text}'
            )
        except Exception as e:  # pickle.UnpicklingError, torch's refusals of unknown globals
            fault = f'unreadable checkpoint ({type(e).__name__}: {e})'
        else:
            fault = _layout_fault(obj, role, sam_cfg, path)
    report.count('checkpoints')
    if fault:
        report.add(path, fault, label)


def _layout_fault(obj, role: str, sam_cfg: Optional[dict], path: str) -> Optional[str]:
    state, kind = _weights(obj)
    if state is not None:  # DataParallel's prefix, as the loaders drop it
        state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    if role == 'prototypes':
        if not (isinstance(obj, dict) and 'prototypes' in obj):
            return (
                'not a target-prototype file (no "prototypes"): make it with '
                'tools/compute_prototypes.py'
            )
        return None
    if state is None:
        return f'holds no state dict (a {type(obj).__name__})'
    if role == 'any':
        return None
    sam_keys = [k for k in state if k.startswith('sam.')]
    official = any(k.startswith('image_encoder.') for k in state)
    if role == 'sam':
        if kind == 'training' or (sam_keys and not official):
            return (
                f'a training checkpoint saved by tools/train.py ({len(sam_keys)} weights under '
                '"sam."), not an official SAM file: give it as the checkpoint of the whole model '
                '(tools/test.py CONFIG CKPT, --checkpoint CKPT)'
            )
        if sam_cfg is not None:
            return _sam_fit_fault(state, sam_cfg, path)
        return None
    if kind != 'training':
        if official:
            return (
                'an official SAM/MobileSAM/SAM 2 file, not a checkpoint saved by tools/train.py: '
                'give it with --sam-checkpoint (model.sam.init_cfg)'
            )
        return 'not a checkpoint saved by tools/train.py (no "state_dict")'
    if role == 'model' and sam_cfg is not None:
        if not sam_keys:
            return 'holds no SAM weights ("sam.*"): not a checkpoint of this config\'s model'
        return _sam_fit_fault({k[4:]: state[k] for k in sam_keys}, sam_cfg, path)
    return None


# ---------------------------------------------------------------- configs


def dataset_inputs(cfg, splits: Sequence[str]) -> List[dict]:
    """The annotation files and image folders of a config's datasets (``<split>_dataloader``),
    with the paths MMEngine's ``BaseDataset`` makes of ``data_root``, ``ann_file`` and
    ``data_prefix``. Wrappers (``dataset``/``datasets``) are looked through."""
    out = []

    def visit(ds, split):
        if not isinstance(ds, dict):
            return
        if 'datasets' in ds:
            for sub in ds['datasets']:
                visit(sub, split)
            return
        if 'dataset' in ds and 'ann_file' not in ds:
            visit(ds['dataset'], split)
            return
        root = ds.get('data_root') or ''
        ann = ds.get('ann_file') or ''
        join = lambda p: p if (not root or osp.isabs(p)) else osp.join(root, p)  # noqa: E731
        prefix = dict(ds.get('data_prefix') or {})
        img_dir = prefix.get('img', prefix.get('img_path'))
        out.append(
            dict(
                split=split,
                type=ds.get('type'),
                ann_file=join(ann) if ann else '',
                img_dir=None if img_dir is None else join(img_dir),
                metainfo=ds.get('metainfo') or {},
                filter_empty=ds.get('filter_empty', False),
                img_suffix=ds.get('img_suffix'),
            )
        )

    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if loader:
            visit(loader.get('dataset'), split)
    return out


def _dataset_class(type_):
    if not isinstance(type_, str):
        return type_
    from mmengine.registry import DefaultScope

    from mmpointsam.registry import DATASETS
    from mmpointsam.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmpointsam'):
        try:
            return DATASETS.get(type_)
        except Exception:
            return None


def check_dataset(report: FaultReport, ds: dict) -> None:
    """Check one entry of :func:`dataset_inputs` by its dataset type."""
    cls = _dataset_class(ds['type'])
    name = getattr(cls, '__name__', str(ds['type']))
    ann, img_dir = ds['ann_file'], ds['img_dir']
    from mmpointsam.datasets import CocoInstanceDataset, PointLabelDataset

    if cls is not None and issubclass(cls, PointLabelDataset):
        check_point_json(report, ann, img_dir or '', annotated_only=ds['filter_empty'])
    elif cls is not None and issubclass(cls, CocoInstanceDataset):
        classes = ds['metainfo'].get('classes') or cls.METAINFO.get('classes')
        check_coco_json(report, ann, img_dir or '', classes=classes, masks=True)
    elif ann.endswith('.json'):
        check_coco_json(report, ann, img_dir or '')
    elif 'DOTA' in name:
        if ann:
            check_dota_dir(
                report, ann, img_dir, ds['metainfo'].get('classes'), ds['img_suffix'] or 'png'
            )
        elif img_dir is not None and not osp.isdir(img_dir):
            report.add(img_dir, f'image folder of {name} not found')
    elif ann and not osp.exists(ann):
        report.add(ann, f'annotation file of {name} not found')


def _sam_init_checkpoint(cfg) -> Optional[str]:
    sam = cfg.get('model', {}).get('sam') if isinstance(cfg.get('model'), dict) else None
    init = (sam or {}).get('init_cfg') or {}
    if init.get('type') == 'Pretrained' and init.get('checkpoint'):
        return init['checkpoint']
    return None


def _prototype_files(cfg) -> List[str]:
    found = []

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'PrototypeRegularizer' and node.get('target_prototypes'):
                found.append(node['target_prototypes'])
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg.get('model'))
    return found


def check_config_inputs(
    cfg,
    splits: Sequence[str] = (),
    checkpoint: Optional[str] = None,
    resume: Optional[str] = None,
    weights: bool = True,
    prototypes: bool = True,
    report: Optional[FaultReport] = None,
) -> FaultReport:
    """Check every input a config reads: the datasets of ``splits``; with ``weights`` the SAM
    file of ``model.sam.init_cfg`` (unless ``checkpoint``, which holds every weight, is given),
    the target-prototype files (with ``prototypes``), ``checkpoint`` (a training checkpoint of
    the config's model), ``load_from`` and the ``resume`` checkpoint."""
    report = report if report is not None else FaultReport()
    for ds in dataset_inputs(cfg, splits):
        check_dataset(report, ds)
    if not weights:
        return report
    model = cfg.get('model') or {}
    sam_cfg = model.get('sam') if isinstance(model, dict) else None
    if checkpoint is not None:
        check_checkpoint(report, checkpoint, 'model', sam_cfg)
    else:
        sam_file = _sam_init_checkpoint(cfg)
        if sam_file is not None:
            check_checkpoint(report, sam_file, 'sam', sam_cfg)
        if prototypes:
            for path in _prototype_files(cfg):
                check_checkpoint(report, path, 'prototypes')
    if cfg.get('load_from') and not resume:
        check_checkpoint(report, cfg.load_from, 'model', sam_cfg, what='load_from')
    if resume:
        check_checkpoint(report, resume, 'resume', sam_cfg, what='--resume checkpoint')
    return report


def check_point2rbox_inputs(
    cfg,
    point_json: str,
    img_dir: str,
    checkpoint: Optional[str] = None,
    img_ids: Optional[Sequence[int]] = None,
) -> FaultReport:
    """The inputs of ``tools/point2rbox.py``: the point-label json and its images (those of
    ``img_ids`` when given) and the weights (``checkpoint`` or the config's SAM file)."""
    report = FaultReport()
    check_point_json(report, point_json, img_dir, img_ids=img_ids)
    return check_config_inputs(cfg, (), checkpoint, prototypes=False, report=report)


def resume_checkpoint(resume: Optional[str], work_dir: str) -> Optional[str]:
    """The checkpoint ``tools/train.py --resume`` resumes from (None: start from scratch).

    ``--resume`` alone: the latest checkpoint of ``work_dir``, which must exist (a mistyped
    ``--work-dir`` must not train from scratch as if resumed); ``--resume auto``: that one if
    there is one, else from scratch; ``--resume PATH``: that file, which must exist.

    Raises:
        InputError: when there is nothing to resume from.
    """
    if resume is None:
        return None
    from mmengine.runner.checkpoint import find_latest_checkpoint

    if resume in ('latest', 'auto'):
        latest = find_latest_checkpoint(work_dir) if osp.isdir(work_dir) else None
        if latest is not None and not osp.isfile(latest):
            raise InputError(
                f'{osp.join(work_dir, "last_checkpoint")}: names {latest}, which does not exist'
            )
        if latest is None and resume == 'latest':
            raise InputError(
                f'--resume: no checkpoint to resume from in the work dir {work_dir} (no '
                'last_checkpoint file). Check --work-dir; give --resume PATH, or --resume auto '
                'to resume when there is a checkpoint and start from scratch otherwise.'
            )
        return latest
    if not osp.isfile(resume):
        raise InputError(f'--resume {resume}: checkpoint not found')
    return resume
