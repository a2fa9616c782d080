"""Visualizer of point-prompted segmentation: prompts, masks, rotated boxes, class names, scores.

Pixel work (mask fill and outline) is done in NumPy in one pass; the vector layers (rotated boxes,
prompt markers, texts) go through MMEngine's matplotlib canvas like every OpenMMLab visualizer.
"""

from typing import Dict, List, Optional, Sequence

import mmcv
import numpy as np
import torch
from matplotlib.collections import PolyCollection
from mmdet.visualization import DetLocalVisualizer
from mmdet.visualization.palette import _get_adaptive_scales
from mmengine.dist import master_only
from mmengine.structures import InstanceData

from mmpointsam.registry import VISUALIZERS

from .mask_overlay import mask_bboxes, overlay_instance_masks
from .palette import instance_colors
from .rotated_boxes import rbox_to_corners

_TEXT_BOX = dict(facecolor='black', alpha=0.6, pad=0.5, edgecolor='none')


def _numpy(value) -> np.ndarray:
    """Boxes, tensors or array-likes as a numpy array."""
    if hasattr(value, 'tensor'):  # mmdet/mmrotate box types
        value = value.tensor
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def to_bool_masks(masks, shape, where: str = 'instances') -> np.ndarray:
    """Masks (BitmapMasks, PolygonMasks, tensor or array) as a bool array (N, H, W) of ``shape``."""
    if hasattr(masks, 'to_ndarray'):
        masks = masks.to_ndarray()
    masks = _numpy(masks)
    if masks.dtype != np.bool_:
        masks = masks > (0.5 if np.issubdtype(masks.dtype, np.floating) else 0)
    if masks.ndim == 2:
        masks = masks[None]
    if masks.shape[1:] != tuple(shape[:2]):
        raise ValueError(
            f'{where}: masks are {masks.shape[1]}x{masks.shape[2]} (h x w) but the '
            f'image is {shape[0]}x{shape[1]}; masks must be at the size of the image '
            'they are drawn on (the original image for predictions)'
        )
    return masks


def paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU (N,) of ``a[i]`` with ``b[i]`` for bool masks (N, H, W); 1 where both are empty."""
    inter = np.count_nonzero(a & b, axis=(1, 2))
    union = np.count_nonzero(a | b, axis=(1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def _instance_texts(instances: InstanceData, num: int, classes: Optional[Sequence[str]]):
    """Each instance's class name (``class k`` when unnamed) and score, as drawn."""
    labels = _numpy(instances.labels).reshape(-1) if 'labels' in instances else None
    scores = _numpy(instances.scores).reshape(-1) if 'scores' in instances else None
    texts = []
    for i in range(num):
        text = ''
        if labels is not None:
            label = int(labels[i])
            text = (
                classes[label]
                if classes is not None and 0 <= label < len(classes)
                else f'class {label}'
            )
        if scores is not None:
            text = f'{text} {float(scores[i]):.2f}'.strip()
        texts.append(text)
    return texts


@VISUALIZERS.register_module()
class SAMVisualizer(DetLocalVisualizer):
    """Draws point prompts (positive: green star, negative: red cross), translucent instance masks
    with outlines (one colour per instance), rotated boxes, class names and scores.

    Instance ``i`` has the same colour in every panel, so a prediction is easy to match with its
    ground truth. Sizes of lines, markers and texts follow the image size.

    Args:
        alpha: opacity of the mask fill.
        outline_width: mask outline in pixels (None: from the image size; 0: none).
        line_width: rotated-box line width in pixels (None: from the image size).
        point_size: prompt marker diameter in pixels (None: from the image size).
        draw_hbboxes: also draw axis-aligned (N, 4) ``bboxes`` (they are not SAM prompts here).
        draw_labels: write class names and scores next to the instances.
        panel_gap: white pixels between side-by-side panels.
        pos_color, neg_color: marker colours of positive and negative prompts.
    """

    def __init__(
        self,
        name: str = 'visualizer',
        image: Optional[np.ndarray] = None,
        vis_backends: Optional[List[dict]] = None,
        save_dir: Optional[str] = None,
        alpha: float = 0.5,
        outline_width: Optional[int] = None,
        line_width: Optional[float] = None,
        point_size: Optional[float] = None,
        text_color=(255, 255, 255),
        draw_hbboxes: bool = False,
        draw_labels: bool = True,
        panel_gap: int = 6,
        pos_color: str = 'lime',
        neg_color: str = 'red',
    ) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            text_color=text_color,
            line_width=line_width or 2,
            alpha=alpha,
        )
        self.outline_width = outline_width
        self.box_line_width = line_width
        self.point_size = point_size
        self.draw_hbboxes = draw_hbboxes
        self.draw_labels = draw_labels
        self.panel_gap = panel_gap
        self.pos_color = pos_color
        self.neg_color = neg_color

    # ------------------------------------------------------------------ sizes
    @staticmethod
    def _scale(shape) -> float:
        """How much to enlarge markers and text for an image of this size."""
        return max(1.0, float(np.sqrt(shape[0] * shape[1])) / 600.0)

    def _px_to_pt(self, px: float) -> float:
        """Canvas pixels to matplotlib points."""
        # the canvas is sized so that one image pixel is one canvas pixel
        return px * 72.0 / self.dpi

    def _font_size(self, shape) -> float:
        """The font size for an image of this size, in points."""
        return self._px_to_pt(max(10.0, 11.0 * self._scale(shape)))

    @master_only
    def set_image(self, image: np.ndarray) -> None:
        """Set the image to draw on; the view stays on the image whatever is drawn later."""
        super().set_image(image)
        # scatter() would otherwise autoscale the axes and shift the picture
        self.ax_save.set_autoscale_on(False)
        self.ax_save.set_xlim(0, self.width)
        self.ax_save.set_ylim(self.height, 0)

    # ------------------------------------------------------------------ layers
    @master_only
    def draw_rboxes(self, rboxes, colors, line_width: Optional[float] = None) -> 'SAMVisualizer':
        """Draw rotated boxes ((N, 5) le90 radians or (N, 8) corners) with one colour per box."""
        corners = rbox_to_corners(rboxes)
        if len(corners) == 0:
            return self
        width = (
            line_width
            or self.box_line_width
            or max(2.0, 2.0 * self._scale((self.height, self.width)))
        )
        colors = np.asarray(colors, dtype=np.float64).reshape(-1, 3) / 255.0
        # a PolyCollection, not draw_polygons: boxes may leave the image and that warns per call
        self.ax_save.add_collection(
            PolyCollection(
                list(corners),
                closed=True,
                facecolors='none',
                edgecolors=colors,
                linewidths=self._px_to_pt(width),
                joinstyle='miter',
            )
        )
        return self

    @master_only
    def draw_prompt_points(
        self, points, point_labels, size: Optional[float] = None
    ) -> 'SAMVisualizer':
        """Draw prompt points (N, P, 2) xy: label 1 a star, 0 a cross, -1 (padding) nothing."""
        points = _numpy(points).reshape(-1, 2).astype(np.float64)
        labels = _numpy(point_labels).reshape(-1)
        if len(points) != len(labels):
            raise ValueError(f'{len(points)} prompt points but {len(labels)} point labels')
        diameter = size or self.point_size or max(8.0, 9.0 * self._scale((self.height, self.width)))
        edge = self._px_to_pt(max(1.0, diameter / 10))
        for value, marker, color, scale in (
            (1, '*', self.pos_color, 1.3),
            (0, 'X', self.neg_color, 1.0),
        ):
            sel = points[labels == value]
            if len(sel):
                self.ax_save.scatter(
                    sel[:, 0],
                    sel[:, 1],
                    marker=marker,
                    c=color,
                    s=self._px_to_pt(diameter * scale) ** 2,
                    edgecolors='white',
                    linewidths=edge,
                    zorder=3,
                )
        return self

    def _text_positions(self, instances: InstanceData, num: int, boxes, nonempty, corners):
        """Where each instance's label goes: above its mask, else its rotated box, else its
        first positive prompt; None where it has none of these."""
        pos = [None] * num
        if corners is not None:
            for i, c in enumerate(corners):
                top = c[np.argmin(c[:, 1])]
                pos[i] = (float(c[:, 0].min()), float(top[1]))
        if boxes is not None:
            for i in np.flatnonzero(nonempty):
                pos[i] = (float(boxes[i, 0]), float(boxes[i, 1]))
        if 'points' in instances and 'point_labels' in instances:
            pts, lbs = _numpy(instances.points), _numpy(instances.point_labels)
            for i in range(min(num, len(pts))):
                if pos[i] is None and (lbs[i] == 1).any():
                    x, y = pts[i][lbs[i] == 1][0]
                    pos[i] = (float(x), float(y))
        return pos

    @master_only
    def draw_labels_at(self, texts: Sequence[str], positions, areas) -> 'SAMVisualizer':
        """Write ``texts`` at ``positions`` (xy, the text's bottom-left), sized by ``areas``."""
        keep = [i for i, p in enumerate(positions) if p is not None and texts[i]]
        if not keep:
            return self
        shape = (self.height, self.width)
        font = self._font_size(shape)
        scales = _get_adaptive_scales(np.asarray([areas[i] for i in keep], dtype=np.float64))
        xy = np.clip(
            np.asarray([positions[i] for i in keep], dtype=np.float64),
            0,
            [self.width - 1, self.height - 1],
        )
        # near the top edge the text goes below the anchor instead of above it
        font_px = font * self.dpi / 72.0
        valign = ['top' if y < 1.5 * font_px else 'bottom' for y in xy[:, 1]]
        self.draw_texts(
            [texts[i] for i in keep],
            xy,
            font_sizes=[font * s for s in scales],
            colors=tuple(int(c) for c in self.text_color),
            vertical_alignments=valign,
            bboxes=_TEXT_BOX,
        )
        return self

    @master_only
    def draw_title(self, title: str) -> 'SAMVisualizer':
        """Write a panel title in the top-left corner."""
        pad = max(3.0, 4.0 * self._scale((self.height, self.width)))
        self.draw_texts(
            title,
            np.array([pad, pad]),
            font_sizes=self._font_size((self.height, self.width)) * 1.1,
            colors='white',
            vertical_alignments='top',
            bboxes=dict(facecolor='black', alpha=0.75, pad=0.6, edgecolor='none'),
        )
        return self

    # ------------------------------------------------------------------ panels
    def _instance_rboxes(self, instances: InstanceData, num: int):
        """The rotated boxes to draw: ``rboxes``, or ``bboxes`` of 5 or 8 columns, or 4-column
        boxes as their 4 corners when ``draw_hbboxes``; None when there are none."""
        rboxes = instances.get('rboxes')
        if rboxes is None and 'bboxes' in instances:
            bboxes = instances.bboxes
            width = _numpy(bboxes).reshape(num, -1).shape[1] if num else 0
            if width in (5, 8):
                rboxes = bboxes
            elif width == 4 and self.draw_hbboxes:
                b = _numpy(bboxes).astype(np.float64)
                rboxes = np.stack(
                    [b[:, 0], b[:, 1], b[:, 2], b[:, 1], b[:, 2], b[:, 3], b[:, 0], b[:, 3]], axis=1
                )
        return rboxes

    @master_only
    def draw_instances(
        self,
        image: np.ndarray,
        instances: InstanceData,
        classes: Optional[Sequence[str]] = None,
        title: Optional[str] = None,
        colors: Optional[np.ndarray] = None,
        where: str = 'instances',
    ) -> np.ndarray:
        """One panel: ``image`` (H, W, 3) RGB with ``instances``' masks, rotated boxes, prompts,
        class names and scores drawn on it; returns an RGB image of the same size.

        Args:
            colors: (N, 3) RGB per instance; default one distinct colour per instance.
            where: names the instances in error messages (e.g. the image path).
        """
        image = np.ascontiguousarray(
            image[..., :3] if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        ).astype(np.uint8)
        shape = image.shape[:2]
        num = len(instances)
        if colors is None:
            colors = instance_colors(num)
        colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
        if len(colors) != num:
            raise ValueError(f'{where}: {len(colors)} colours for {num} instances')

        boxes = nonempty = None
        areas = np.zeros(num)
        if 'masks' in instances:
            masks = to_bool_masks(instances.masks, shape, where)
            outline = self.outline_width
            if outline is None:
                outline = max(1, int(round(1.5 * self._scale(shape))))
            image = overlay_instance_masks(image, masks, colors, self.alpha, outline)
            boxes, nonempty = mask_bboxes(masks)
            areas = np.count_nonzero(masks, axis=(1, 2)).astype(np.float64)

        self.set_image(image)
        corners = None
        rboxes = self._instance_rboxes(instances, num)
        if rboxes is not None and num:
            corners = rbox_to_corners(rboxes)
            self.draw_rboxes(corners.reshape(-1, 8), colors)
            if 'masks' not in instances:
                edges = corners - np.roll(corners, 1, axis=1)
                lengths = np.linalg.norm(edges, axis=2)
                areas = lengths[:, 0] * lengths[:, 1]

        if 'points' in instances and 'point_labels' in instances and num:
            self.draw_prompt_points(instances.points, instances.point_labels)

        if self.draw_labels and num and ('labels' in instances or 'scores' in instances):
            texts = _instance_texts(instances, num, classes)
            positions = self._text_positions(instances, num, boxes, nonempty, corners)
            self.draw_labels_at(texts, positions, areas)

        if title:
            self.draw_title(title)
        return self.get_image()

    def concat_panels(self, panels: Sequence[np.ndarray]) -> np.ndarray:
        """Panels side by side, separated by ``panel_gap`` white pixels (heights padded)."""
        height = max(p.shape[0] for p in panels)
        out = []
        for i, panel in enumerate(panels):
            if panel.shape[0] < height:
                pad = np.full((height - panel.shape[0],) + panel.shape[1:], 255, np.uint8)
                panel = np.concatenate([panel, pad], axis=0)
            if i and self.panel_gap:
                out.append(np.full((height, self.panel_gap, 3), 255, np.uint8))
            out.append(panel)
        return np.concatenate(out, axis=1)

    def _classes(self) -> Optional[Sequence[str]]:
        """The dataset's class names, if known."""
        meta = self.dataset_meta or {}
        return meta.get('classes')

    @master_only
    def draw_datasample(
        self,
        image: np.ndarray,
        data_sample,
        draw_gt: bool = True,
        draw_pred: bool = True,
        pred_score_thr: Optional[float] = None,
    ) -> np.ndarray:
        """Ground truth (left) beside prediction (right) of a ``DetDataSample`` on ``image``.

        The prediction title carries the mean IoU of each prediction with its own ground-truth
        instance (one prediction per prompted instance) when both have masks.
        """
        classes = self._classes()
        where = data_sample.metainfo.get('img_path', 'data sample')
        panels = []
        gt = data_sample.get('gt_instances') if draw_gt else None
        pred = data_sample.get('pred_instances') if draw_pred else None
        if gt is not None:
            panels.append(
                self.draw_instances(image, gt, classes, f'ground truth ({len(gt)})', where=where)
            )
        if pred is not None:
            title = f'prediction ({len(pred)})'
            gt_all = data_sample.get('gt_instances')
            if (
                gt_all is not None
                and 'masks' in gt_all
                and 'masks' in pred
                and len(gt_all) == len(pred)
                and len(pred)
            ):
                iou = paired_iou(
                    to_bool_masks(pred.masks, image.shape, where),
                    to_bool_masks(gt_all.masks, image.shape, where),
                )
                title += f', mean IoU {iou.mean():.3f}'
            colors = instance_colors(len(pred))
            if pred_score_thr is not None and 'scores' in pred:
                keep = _numpy(pred.scores).reshape(-1) >= pred_score_thr
                pred, colors = pred[torch.from_numpy(keep)], colors[keep]
            panels.append(self.draw_instances(image, pred, classes, title, colors, where=where))
        if not panels:
            return np.ascontiguousarray(image)
        return self.concat_panels(panels)

    @master_only
    def add_datasample(
        self,
        name: str,
        image: np.ndarray,
        data_sample=None,
        draw_gt: bool = True,
        draw_pred: bool = True,
        show: bool = False,
        wait_time: float = 0,
        out_file: Optional[str] = None,
        pred_score_thr: Optional[float] = None,
        step: int = 0,
    ) -> None:
        """DetLocalVisualizer's entry point: draw, then show, save to ``out_file`` or send to
        the backends."""
        drawn = (
            image
            if data_sample is None
            else self.draw_datasample(image, data_sample.cpu(), draw_gt, draw_pred, pred_score_thr)
        )
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)

    @master_only
    def draw_pseudo_labels(self, image: np.ndarray, record: Dict) -> np.ndarray:
        """Teacher's pseudo masks (left) beside the student's prediction (right), both with the
        point prompts, from a self-training strategy's ``last_visualization`` record; with its
        ``gt_masks`` (where training reads masks) the ground truth comes first."""
        where = record.get('img_path', 'self-training record')
        missing = [
            k
            for k in ('points', 'point_labels', 'pseudo_masks', 'student_masks')
            if k not in record
        ]
        if missing:
            raise KeyError(f'{where}: the self-training visualization record lacks {missing}')
        classes = self._classes()
        pseudo = to_bool_masks(record['pseudo_masks'], image.shape, f'{where} (pseudo_masks)')
        student = to_bool_masks(record['student_masks'], image.shape, f'{where} (student_masks)')
        panels = []
        truth = None
        if record.get('gt_masks') is not None:
            truth = to_bool_masks(record['gt_masks'], image.shape, f'{where} (gt_masks)')
        named = [('teacher pseudo masks', pseudo), ('student prediction', student)]
        if truth is not None and len(truth) == len(pseudo):
            named.insert(0, ('ground truth', truth))
        for title, masks in named:
            inst = InstanceData(
                masks=masks,
                points=_numpy(record['points']),
                point_labels=_numpy(record['point_labels']),
            )
            if record.get('labels') is not None:
                inst.labels = _numpy(record['labels']).reshape(-1)
            if masks is student and len(student) == len(pseudo) and len(student):
                title += f', IoU with pseudo {paired_iou(student, pseudo).mean():.3f}'
            if masks is pseudo and truth is not None and len(truth) == len(pseudo) and len(pseudo):
                title += f', IoU with truth {paired_iou(pseudo, truth).mean():.3f}'
            panels.append(
                self.draw_instances(image, inst, classes, f'{title} ({len(masks)})', where=where)
            )
        return self.concat_panels(panels)
