"""Image-file checks: PIL reads the header (format, size) and the last :data:`IMAGE_TAIL` bytes are
searched for the end marker (TIFF: strip offsets vs file size); only a suspect file is decoded."""

import os.path as osp
from typing import Optional, Sequence, Tuple

from .report import FaultReport
from .values import is_size

IMAGE_TAIL = 4096
# the end markers whose absence in the last IMAGE_TAIL bytes makes a file suspect
END_MARKERS = {'JPEG': b'\xff\xd9', 'MPO': b'\xff\xd9', 'PNG': b'IEND'}
IMG_EXTS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')


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


def find_image(img_dir: str, stem: str, suffix: Optional[str] = None) -> Optional[str]:
    """The image ``<stem>.<suffix>`` (or of any :data:`IMG_EXTS`) in ``img_dir``, or None."""
    exts = ['.' + suffix.lstrip('.')] if suffix else IMG_EXTS
    for ext in exts:
        path = osp.join(img_dir, stem + ext)
        if osp.isfile(path):
            return path
    return None
