"""The encoder's units of a conversion (an image, or a patch of a large scene that holds clicks),
decoded and packed by the dataset's pipeline, streamed in order through a DataLoader.

JPEG decoding, patch cutting and the pipeline run in DataLoader workers (``num_workers``), so
the process that runs the model batches units as they arrive and never waits on a file. Each
worker takes whole images (image ``k`` of the list goes to worker ``k % num_workers``), so the
patches of one scene are cut from one decoded copy. Images that are done, or claimed by another
live process, when a worker reaches them are skipped unread (``skip``).
"""

import copy
from typing import Callable, Iterator, Optional, Sequence

import mmcv
import numpy as np
from mmengine.dataset import Compose
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from .scene_patches import assign_clicks, scene_windows, shift_instances
from .work_plan import first_click


def check_declared_size(point_json: str, img: dict, height: int, width: int) -> None:
    """Raise when an image's actual size is not the size its json entry declares."""
    if (height, width) != (img['height'], img['width']):
        raise ValueError(
            f'{point_json}: image {img["file_name"]} is {width}x{height} '
            f'(w x h) but the json declares {img["width"]}x{img["height"]}'
        )


class ConversionUnits(IterableDataset):
    """Units of the images ``indices`` of a ``PointLabelDataset``, in order.

    Each item is a dict: ``img_id``, ``unit`` (its rank within the image), ``num_units``,
    ``data`` (the packed sample; None for an image without clicks: nothing to encode),
    ``offset`` (x0, y0) of a patch in its scene and ``instance_ids`` of its clicks.

    Args:
        dataset: the ``PointLabelDataset`` (its pipeline loads the image first).
        indices: dataset indices to stream, in order.
        patch: ``dict(size, overlap)``: images with a side over ``size`` go in patches; None:
            every image whole.
        point_json: the label file, named in errors.
        skip: ``skip(img_id)`` -> True to leave an image out (checked when a worker reaches it).
    """

    def __init__(
        self,
        dataset,
        indices: Sequence[int],
        patch: Optional[dict],
        point_json: str,
        skip: Optional[Callable[[int], bool]] = None,
    ) -> None:
        self.dataset = dataset
        self.indices = list(indices)
        self.patch = patch
        self.point_json = point_json
        self.skip = skip

    def __iter__(self) -> Iterator[dict]:
        worker = get_worker_info()
        wid, num = (0, 1) if worker is None else (worker.id, worker.num_workers)
        for k, idx in enumerate(self.indices):
            if k % num != wid:
                continue
            info = self.dataset.get_data_info(idx)
            if self.skip is not None and self.skip(info['img_id']):
                continue
            yield from self.units_of(idx, info)

    def units_of(self, idx: int, info: dict) -> Iterator[dict]:
        """The units of dataset image ``idx`` (data info ``info``)."""
        img = dict(file_name=info['file_name'], width=info['width'], height=info['height'])
        base = dict(img_id=info['img_id'], offset=(0, 0))
        if not info['instances']:
            yield dict(base, unit=0, num_units=1, data=None, instance_ids=[])
            return
        if self.patch is not None and max(img['width'], img['height']) > self.patch['size']:
            yield from self._scene_units(info, img, base)
            return
        data = self.dataset[idx]
        sample = data['data_samples']
        check_declared_size(self.point_json, img, *sample.ori_shape[:2])
        ids = list(sample.metainfo['instance_ids'])
        yield dict(base, unit=0, num_units=1, data=data, instance_ids=ids)

    def _scene_units(self, info: dict, img: dict, base: dict) -> Iterator[dict]:
        """One unit per patch of a large scene holding clicks (see :mod:`.scene_patches`)."""
        image = mmcv.imread(info['img_path'])
        if image is None:
            raise FileNotFoundError(f'{self.point_json}: cannot read image {info["img_path"]}')
        height, width = image.shape[:2]
        check_declared_size(self.point_json, img, height, width)
        windows = scene_windows(width, height, self.patch['size'], self.patch['overlap'])
        instances = info['instances']
        where = assign_clicks([first_click(inst) for inst in instances], windows)
        # the dataset's pipeline after its image loading, on each patch
        pipeline = Compose(list(self.dataset.pipeline.transforms)[1:])
        used = np.unique(where).tolist()
        for unit, k in enumerate(used):
            x0, y0, x1, y1 = (int(v) for v in windows[k])
            results = copy.deepcopy({key: v for key, v in info.items() if key != 'instances'})
            results.pop('background_points', None)  # scene-frame clicks on no object
            results.update(
                img=np.ascontiguousarray(image[y0:y1, x0:x1]),
                img_shape=(y1 - y0, x1 - x0),
                ori_shape=(y1 - y0, x1 - x0),
                height=y1 - y0,
                width=x1 - x0,
                instances=shift_instances(
                    [instances[i] for i in np.flatnonzero(where == k)], -x0, -y0
                ),
            )
            data = pipeline(results)
            ids = list(data['data_samples'].metainfo['instance_ids'])
            yield dict(
                base, unit=unit, num_units=len(used), data=data, offset=(x0, y0), instance_ids=ids
            )


def _as_is(item):
    """No collation: the unit as the dataset made it."""
    return item


def unit_loader(units: ConversionUnits, num_workers: int = 0) -> DataLoader:
    """A DataLoader over ``units`` item by item (no collation), decoding in ``num_workers``."""
    return DataLoader(
        units,
        batch_size=None,
        num_workers=num_workers,
        collate_fn=_as_is,
        prefetch_factor=2 if num_workers else None,
    )
