"""COCO-format instance datasets that fail loudly on broken annotations instead of dropping them:
point prompts are sampled from masks, so bad data must stop the run and say where it is."""

import logging
import math
import numbers
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmdet.datasets import CocoDataset
from mmengine.fileio import exists
from mmengine.logging import print_log

from mmpointsam.registry import DATASETS


class InvalidAnnotationError(ValueError):
    """An annotation file holds data that cannot be trained or evaluated on as it is."""


def _is_number(value) -> bool:
    """True for real numbers, False for bools (which ``numbers.Real`` would accept)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _polygon_area(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Absolute shoelace area of a closed polygon."""
    twice = 0.0
    for i in range(len(xs)):
        twice += xs[i - 1] * ys[i] - xs[i] * ys[i - 1]
    return abs(twice) / 2.0


def _simple_polygon(poly: Sequence[float]) -> bool:
    """Whether a polygon ``[x0, y0, x1, y1, ...]`` does not cross itself (shapely)."""
    from shapely.geometry import Polygon

    return Polygon(list(zip(poly[0::2], poly[1::2]))).is_valid


@DATASETS.register_module()
class CocoInstanceDataset(CocoDataset):
    """CocoDataset that raises :class:`InvalidAnnotationError` on bad images/annotations and skips
    images without instances in train and test mode (point prompts have nothing to hit there).

    Args:
        invalid_polygon: what a self-intersecting polygon with non-zero area (shapely's
            ``Polygon.is_valid`` is False; its filled mask depends on the rasteriser's fill rule)
            does: ``'warn'`` (default) logs a warning naming file, image and annotation and keeps
            it; ``'error'`` raises. Warn by default because public sets hold a few such polygons
            whose masks are still usable (NWPU VHR-10 train: annotation 143 of 021.jpg).
    """

    # Checks: the image file exists; category_id is one of the classes; polygons are non-empty,
    # have >= 3 points, an even number of finite coordinates and non-zero area; polygons and bboxes
    # lie inside the image up to COORD_TOLERANCE px. RLE (dict) segmentations are taken as they are.
    # filter_cfg['min_size'] keeps CocoDataset's meaning (train mode only); filter_empty_gt is
    # implied in both modes. filter_cfg['max_gt_instances'] (train mode only, logged) drops
    # images with more annotated instances (ignored ones included), as the public self-training
    # baseline skips them (PointSAM train_selftrain.py L55-57: more than 100).

    # Pixels a coordinate may lie outside [0, width] x [0, height] (rounding at image borders).
    COORD_TOLERANCE = 1.0
    # Polygons with a smaller area (px^2) are degenerate (collinear or repeated points).
    MIN_POLYGON_AREA = 1e-6

    INVALID_POLYGON_MODES = ('error', 'warn')

    def __init__(self, *args, invalid_polygon: str = 'warn', **kwargs) -> None:
        if invalid_polygon not in self.INVALID_POLYGON_MODES:
            raise ValueError(
                f'invalid_polygon must be one of {self.INVALID_POLYGON_MODES}, '
                f'got {invalid_polygon!r}'
            )
        self.invalid_polygon = invalid_polygon
        self.num_invalid_polygons = 0
        super().__init__(*args, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """Validate the image and all its annotations, then parse them like CocoDataset."""
        img_info = raw_data_info['raw_img_info']
        self._check_image(img_info)
        for ann in raw_data_info['raw_ann_info']:
            self._check_annotation(img_info, ann)
        return super().parse_data_info(raw_data_info)

    def filter_data(self) -> List[dict]:
        """Drop images with no (non-ignored) instance in any mode; apply ``min_size`` in train."""
        min_size, max_gt = 0, None
        if not self.test_mode and self.filter_cfg is not None:
            min_size = self.filter_cfg.get('min_size', 0)
            max_gt = self.filter_cfg.get('max_gt_instances')
        kept, num_empty, num_crowded = [], 0, 0
        for data_info in self.data_list:
            if not any(not inst.get('ignore_flag', 0) for inst in data_info['instances']):
                num_empty += 1
                continue
            if max_gt is not None and len(data_info['instances']) > max_gt:
                num_crowded += 1
                continue
            if min(data_info['width'], data_info['height']) >= min_size:
                kept.append(data_info)
        if num_empty:
            print_log(
                f'{type(self).__name__}: skipped {num_empty} of {len(self.data_list)} images '
                f'with no instances in {self.ann_file}',
                logger='current',
            )
        if max_gt is not None:
            print_log(
                f'{type(self).__name__}: dropped {num_crowded} of {len(self.data_list)} images '
                f'with more than filter_cfg.max_gt_instances={max_gt} instances in '
                f'{self.ann_file}',
                logger='current',
            )
        if self.data_list and not kept:
            raise InvalidAnnotationError(
                f'{self.ann_file}: no image left to use: {num_empty} of {len(self.data_list)} '
                f'images have zero instances (all skipped)'
                + (
                    f', the other {len(self.data_list) - num_empty} are smaller than '
                    f'filter_cfg.min_size={min_size}'
                    if num_empty < len(self.data_list)
                    else ''
                )
                + (
                    f' or hold more than filter_cfg.max_gt_instances={max_gt} instances '
                    f'({num_crowded})'
                    if max_gt is not None
                    else ''
                )
                + '. Check that the annotations belong to these images (image_id) and classes.'
            )
        if not self.data_list:
            raise InvalidAnnotationError(f'{self.ann_file}: the annotation file lists no images')
        return kept

    # ------------------------------------------------------------------ checks

    def _error(self, img_info: dict, fault: str, ann: Optional[dict] = None):
        """An InvalidAnnotationError naming the annotation file, the image and the annotation."""
        where = f"image '{img_info.get('file_name')}' (image id {img_info.get('id')})"
        if ann is not None:
            where += f', annotation id {ann.get("id")}'
        return InvalidAnnotationError(f'{self.ann_file}: {where}: {fault}')

    def _check_image(self, img_info: dict) -> None:
        """Raise unless an image entry has a positive size, a file name and a file on disk."""
        width, height = img_info.get('width'), img_info.get('height')
        if not (_is_number(width) and _is_number(height) and width > 0 and height > 0):
            raise self._error(img_info, f'invalid image size width={width!r} height={height!r}')
        file_name = img_info.get('file_name')
        if not file_name:
            raise self._error(img_info, 'image entry has no file_name')
        img_path = self._img_path(file_name)
        if not exists(img_path, backend_args=self.backend_args):
            raise self._error(img_info, f'image file not found: {img_path}')

    def _img_path(self, file_name: str) -> str:
        """The image path as ``CocoDataset.parse_data_info`` builds it."""
        # Same path as CocoDataset.parse_data_info builds.
        return osp.join(self.data_prefix.get('img', ''), file_name)

    def _check_annotation(self, img_info: dict, ann: dict) -> None:
        """Raise on an unknown class, a faulty bbox or polygon; warn on a self-intersecting one."""
        if ann.get('category_id') not in self.cat2label:
            raise self._error(
                img_info,
                f"category_id {ann.get('category_id')!r} is not one of the dataset's "
                f'classes {self.metainfo["classes"]} (category ids {sorted(self.cat2label)})',
                ann,
            )
        faults = self.annotation_faults(ann, img_info['width'], img_info['height'])
        if faults:
            raise self._error(img_info, faults[0], ann)
        seg = ann.get('segmentation')
        if isinstance(seg, dict):  # RLE: accepted as is
            return
        for poly in seg:
            if not _simple_polygon(poly):
                self.num_invalid_polygons += 1
                fault = 'self-intersecting polygon (shapely Polygon.is_valid is False)'
                if self.invalid_polygon == 'error':
                    raise self._error(
                        img_info,
                        f"{fault}; fix it, or set the dataset's invalid_polygon='warn' to keep it",
                        ann,
                    )
                print_log(
                    f"{self._error(img_info, fault, ann)}; kept (invalid_polygon='warn')",
                    logger='current',
                    level=logging.WARNING,
                )

    @classmethod
    def annotation_faults(cls, ann: dict, width: float, height: float) -> List[str]:
        """What is wrong with an annotation's bbox and segmentation in a ``width`` x ``height``
        image (empty list: nothing). Shared with the up-front input check
        (:mod:`mmpointsam.utils.input_checks`), which reports every fault of a file at once."""
        faults = []
        bbox_fault = cls._bbox_fault(ann.get('bbox'), width, height)
        if bbox_fault:
            faults.append(bbox_fault)
        seg = ann.get('segmentation')
        if isinstance(seg, dict):  # RLE: accepted as is
            return faults
        if not seg:
            faults.append('empty segmentation')
        elif not isinstance(seg, (list, tuple)):
            faults.append(f'broken polygon: segmentation of type {type(seg).__name__}')
        else:
            faults.extend(f for f in (cls._polygon_fault(poly, width, height) for poly in seg) if f)
        return faults

    @classmethod
    def _bbox_fault(cls, bbox, width: float, height: float) -> Optional[str]:
        """What is wrong with a bbox: not 4 finite numbers, a negative side, outside the image."""
        if (
            not isinstance(bbox, (list, tuple))
            or len(bbox) != 4
            or not all(_is_number(v) and math.isfinite(v) for v in bbox)
        ):
            return f'broken bbox {bbox!r}'
        x, y, w, h = bbox
        if w < 0 or h < 0:
            return f'broken bbox {bbox!r}: negative width or height'
        if cls._outside(x, y, width, height) or cls._outside(x + w, y + h, width, height):
            return f'bbox {bbox!r} (x, y, w, h) is outside the image ({width}x{height})'
        return None

    @classmethod
    def _outside(cls, x: float, y: float, width: float, height: float) -> bool:
        """True when a point lies outside the image by more than COORD_TOLERANCE pixels."""
        tol = cls.COORD_TOLERANCE
        return x < -tol or y < -tol or x > width + tol or y > height + tol

    @classmethod
    def _polygon_fault(cls, poly, width: float, height: float) -> Optional[str]:
        """Describe what is wrong with one polygon ``[x0, y0, x1, y1, ...]``, or None."""
        if not isinstance(poly, (list, tuple)):
            return f'broken polygon: {type(poly).__name__} instead of a coordinate list'
        if not all(_is_number(v) for v in poly):
            return 'broken polygon: non-numeric coordinate'
        if not all(math.isfinite(v) for v in poly):
            return 'broken polygon: non-finite coordinate'
        if len(poly) % 2:
            return f'broken polygon: odd number of coordinates ({len(poly)})'
        if len(poly) < 6:
            return f'broken polygon: fewer than 3 points ({len(poly) // 2})'
        xs, ys = poly[0::2], poly[1::2]
        if _polygon_area(xs, ys) < cls.MIN_POLYGON_AREA:
            return 'degenerate polygon: zero area'
        tol = cls.COORD_TOLERANCE
        if min(xs) < -tol or min(ys) < -tol or max(xs) > width + tol or max(ys) > height + tol:
            return (
                f'polygon outside the image ({width}x{height}): x in '
                f'[{min(xs)}, {max(xs)}], y in [{min(ys)}, {max(ys)}]'
            )
        return None
