"""Images with point labels (no masks): the input of point -> rotated-box conversion, of
``tools/test.py`` runs that prompt SAM with annotated points, and of training from clicks alone
(the ``-clicks`` configs). Masks are never read, whatever else the file holds."""

import os.path as osp
from typing import List, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import get_local_path

from mmpointsam.registry import DATASETS

from .point_labels import load_point_labels


@DATASETS.register_module()
class PointLabelDataset(BaseDataset):
    """Reads a point-label json (see :mod:`mmpointsam.datasets.point_labels`).

    Each data info has ``img_path``, ``img_id``, ``file_name``, ``width``, ``height`` and
    ``instances`` (``points``, ``point_labels``, ``bbox_label``, ``ann_id``). Classes come from
    ``metainfo['classes']`` (matched to category names) or else from the json's categories;
    ``metainfo['categories']`` lists the json categories of those classes.

    An image entry may carry ``background_points`` [[x, y], ...], clicks on no object; they
    reach the data info as ``background_points`` (K, 2) for ``LoadPointLabels``' negatives.
    Every point must lie inside its image (pixel indices 0 <= x < width, 0 <= y < height); the
    file is checked whole (``load_point_labels``) and every fault reported at once. An
    annotation's ``difficult`` flag (DOTA) reaches the instance as ``difficult``.

    Args:
        filter_empty: drop images without point labels (kept by default: a converter writes an
            empty label file for them; training drops them).
        forbidden_keys: annotation keys that make the file an error, e.g. ``('segmentation',
            'bbox', 'area')`` to prove that a point-supervised run cannot see a mask.
    """

    METAINFO = dict(classes=None)

    def __init__(
        self,
        *args,
        data_prefix: dict = dict(img=''),
        filter_empty: bool = False,
        forbidden_keys: Sequence[str] = (),
        **kwargs,
    ) -> None:
        self.filter_empty = filter_empty
        self.forbidden_keys = tuple(forbidden_keys)
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read and check the point-label json: one data info per image, its clicks as instances."""
        with get_local_path(
            self.ann_file, backend_args=getattr(self, 'backend_args', None)
        ) as local:
            data = load_point_labels(local, where=self.ann_file)
        cat2label = self._category_labels(data['categories'])
        per_image = {img['id']: [] for img in data['images']}
        for ann in data['annotations']:
            per_image[ann['image_id']].append(self._instance(ann, cat2label))
        prefix = self.data_prefix.get('img', '')
        infos = []
        for img in data['images']:
            info = dict(
                img_path=osp.join(prefix, img['file_name']),
                img_id=img['id'],
                file_name=img['file_name'],
                width=img['width'],
                height=img['height'],
                instances=per_image[img['id']],
            )
            if 'background_points' in img:  # checked by load_point_labels
                bg = img['background_points']
                info['background_points'] = np.asarray(bg, np.float32).reshape(-1, 2)
            infos.append(info)
        return infos

    def _category_labels(self, json_categories: List[dict]) -> dict:
        """Category id -> class index; the classes default to the json's categories, and named
        classes must be among them. Sets ``classes`` and ``categories`` in the metainfo."""
        by_name = {c['name']: c for c in json_categories}
        classes = self._metainfo.get('classes')
        if classes is None:
            classes = tuple(c['name'] for c in json_categories)
            self._metainfo['classes'] = classes
        missing = [c for c in classes if c not in by_name]
        if missing:
            raise ValueError(
                f"{self.ann_file}: classes {missing} are not among the json's "
                f'categories {sorted(by_name)}'
            )
        categories = [dict(id=by_name[c]['id'], name=c) for c in classes]
        self._metainfo['categories'] = categories
        return {c['id']: i for i, c in enumerate(categories)}

    def _instance(self, ann: dict, cat2label: dict) -> dict:
        """One annotation as an instance (points, their labels, class, id, DOTA's difficult);
        a forbidden key or a category outside the classes is refused."""
        for key in self.forbidden_keys:
            if key in ann:
                raise ValueError(
                    f'{self.ann_file}: annotation id {ann.get("id")} has '
                    f'"{key}", which this point-label dataset forbids '
                    f'(forbidden_keys={self.forbidden_keys})'
                )
        if ann['category_id'] not in cat2label:
            raise ValueError(
                f'{self.ann_file}: annotation id {ann.get("id")} has category_id '
                f'{ann["category_id"]}, not one of the classes {self._metainfo["classes"]}'
            )
        instance = dict(
            points=ann['points'],
            point_labels=ann.get('point_labels', [1] * len(ann['points'])),
            bbox_label=cat2label[ann['category_id']],
            ann_id=ann['id'],
        )
        if 'difficult' in ann:  # DOTA's flag, carried to the pseudo labels
            instance['difficult'] = ann['difficult']
        return instance

    def filter_data(self) -> List[dict]:
        """Drop images without a click when ``filter_empty`` is set."""
        if not self.filter_empty:
            return self.data_list
        return [d for d in self.data_list if d['instances']]

    def get_cat_ids(self, idx: int) -> List[int]:
        """The class index of every instance of image ``idx``."""
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]
