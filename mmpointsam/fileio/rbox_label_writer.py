"""Resumable, atomic writer of rotated-box labels: DOTA txt per image plus one COCO json."""

import contextlib
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence

import numpy as np

from .atomic import atomic_dump_json
from .dota_txt import check_class_name, dump_dota_txt
from .run_settings import check_run_settings

PROGRESS_DIR = '.progress'
SETTINGS_FILE = 'settings.json'


class RBoxLabelWriter:
    """Write the rotated boxes of a fixed list of images to ``out_dir``.

    Layout: ``<out_dir>/<json_name>`` (COCO, 4-corner polygons), ``<out_dir>/annfiles/<stem>.txt``
    (DOTA) and ``<out_dir>/.progress/`` (one record per finished image and the run's settings).

    Resumable: a finished image has its txt and its record (each written atomically, the record
    last); a rerun with the same ``settings`` skips it, different settings raise. The json is
    written, atomically, only by :meth:`finalize` once every image is done, and a stale one is
    removed when a run starts, so a complete-looking json always means a complete run.

    Args:
        out_dir: output folder.
        images: COCO image dicts (``id``, ``file_name``, ``width``, ``height``).
        categories: COCO categories (``id``, ``name``); names become DOTA class names.
        settings: what produced the labels (inputs, model, method...); must match to resume.
        resume: keep finished images of an earlier run; False starts afresh.
        json_name: file name of the COCO json.
    """

    def __init__(
        self,
        out_dir: str,
        images: Sequence[dict],
        categories: Sequence[dict],
        settings: dict,
        resume: bool = True,
        json_name: str = 'labels.json',
    ) -> None:
        self.out_dir = out_dir
        self.images = list(images)
        self.categories = list(categories)
        self.settings = json.loads(json.dumps(settings))  # as it reads back from json
        self.json_path = osp.join(out_dir, json_name)
        self.dota_dir = osp.join(out_dir, 'annfiles')
        self.progress_dir = osp.join(out_dir, PROGRESS_DIR)
        self.cat_names = {c['id']: check_class_name(c['name']) for c in self.categories}
        self._stems = self._txt_stems(self.images)
        if not resume:
            self.clear()
        self._check_settings()
        if len(self.pending()) and osp.exists(self.json_path):
            # stale: this run is not complete yet (another process may remove it first)
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.json_path)

    @staticmethod
    def _txt_stems(images: Sequence[dict]) -> Dict[int, str]:
        """Image id -> DOTA txt stem; two images of one stem are refused."""
        stems, seen = {}, {}
        for img in images:
            stem = osp.splitext(osp.basename(img['file_name']))[0]
            if stem in seen:
                raise ValueError(
                    f'images {seen[stem]!r} and {img["file_name"]!r} share the name '
                    f'"{stem}": their DOTA txt files would collide'
                )
            seen[stem] = img['file_name']
            stems[img['id']] = stem
        return stems

    def clear(self) -> None:
        """Remove this writer's outputs (json, DOTA txt files, progress records)."""
        for path in (self.progress_dir, self.dota_dir):
            shutil.rmtree(path, ignore_errors=True)
        if osp.exists(self.json_path):
            os.remove(self.json_path)

    def _check_settings(self) -> None:
        """Refuse an output folder that holds a run with other settings; record ours otherwise."""
        check_run_settings(self.settings, osp.join(self.progress_dir, SETTINGS_FILE), self.out_dir)

    def _record_path(self, image_id: int) -> str:
        """Where the finished-image record of ``image_id`` goes."""
        return osp.join(self.progress_dir, f'{image_id}.json')

    def txt_path(self, image_id: int) -> str:
        """The DOTA txt file of ``image_id``."""
        return osp.join(self.dota_dir, self._stems[image_id] + '.txt')

    def is_done(self, image_id: int) -> bool:
        """True when ``image_id``'s txt and its record were both written."""
        return osp.isfile(self._record_path(image_id)) and osp.isfile(self.txt_path(image_id))

    def pending(self) -> List[dict]:
        """Images still to do, in the given order."""
        return [img for img in self.images if not self.is_done(img['id'])]

    def write_image(
        self, image: dict, annotations: Sequence[dict], empty: Sequence[dict] = ()
    ) -> None:
        """Record one finished image.

        Args:
            image: its COCO image dict.
            annotations: COCO rbox annotations (see ``rbox_to_coco_ann``); a ``difficult`` key
                becomes the DOTA line's difficulty.
            empty: one dict per instance that got no box (e.g. ``id``, ``category_id``).
        """
        if image['id'] not in self._stems:
            raise KeyError(f'image id {image["id"]} is not one of the images of this writer')
        corners = np.array([a['segmentation'][0] for a in annotations], dtype=np.float64).reshape(
            -1, 4, 2
        )
        try:
            names = [self.cat_names[a['category_id']] for a in annotations]
        except KeyError as e:
            raise KeyError(
                f'category_id {e.args[0]} of image {image["file_name"]} is not one of '
                f'the categories {sorted(self.cat_names)}'
            ) from None
        # DOTA's difficult flag of the source annotation (0 where it has none)
        difficulties = [int(a.get('difficult', 0)) for a in annotations]
        dump_dota_txt(self.txt_path(image['id']), corners, names, difficulties)
        atomic_dump_json(
            dict(annotations=list(annotations), empty=list(empty)), self._record_path(image['id'])
        )

    def finalize(self, info: Optional[dict] = None) -> dict:
        """Write the COCO json from the records of all images; returns a summary.

        Raises:
            RuntimeError: if some image is not done.
        """
        pending = self.pending()
        if pending:
            raise RuntimeError(
                f'{len(pending)} of {len(self.images)} images of {self.out_dir} '
                f'are not done (first: {pending[0]["file_name"]}): no json written'
            )
        annotations, empty = [], []
        for img in self.images:
            with open(self._record_path(img['id'])) as f:
                record = json.load(f)
            annotations.extend(record['annotations'])
            empty.extend(record['empty'])
        ids = [a['id'] for a in annotations]
        if len(set(ids)) != len(ids):
            raise ValueError(f'{self.out_dir}: annotation ids are not unique')
        summary = dict(
            num_images=len(self.images), num_boxes=len(annotations), num_empty=len(empty)
        )
        info = dict(info or {}, settings=self.settings, empty_instances=empty, **summary)
        atomic_dump_json(
            dict(
                info=info, images=self.images, categories=self.categories, annotations=annotations
            ),
            self.json_path,
        )
        return dict(summary, json=self.json_path, dota_dir=self.dota_dir, empty=empty)
