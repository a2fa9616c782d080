"""HRSID: single-class SAR ship instance segmentation (COCO json)."""

from typing import List, Sequence, Union

from mmengine.logging import print_log

from mmpointsam.registry import DATASETS

from .coco_instance import CocoInstanceDataset


@DATASETS.register_module()
class HRSIDDataset(CocoInstanceDataset):
    """HRSID SAR ship instances in COCO format; one class, ``ship``.

    Args:
        exclude_img_ids: image ids of the annotation file left out before their annotations are
            checked or parsed (logged). The public PointSAM/ReSAM code leaves out images 351, 375
            and 376 of ``inshore_train.json`` and 166 of ``inshore_test.json`` (whose one
            annotation, id 1471, has a zero-area polygon and bbox ``[0, 0, 0, 0]``);
            ``configs/_base_/protocols/paper_hrsid.py`` does the same.
    """

    METAINFO = {'classes': ('ship',), 'palette': [(0, 0, 230)]}

    def __init__(self, *args, exclude_img_ids: Sequence[int] = (), **kwargs) -> None:
        self.exclude_img_ids = frozenset(int(i) for i in exclude_img_ids)
        self.num_excluded = 0
        super().__init__(*args, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """Mark an image of ``exclude_img_ids`` as excluded instead of parsing its instances."""
        img_id = raw_data_info['raw_img_info']['img_id']
        if img_id in self.exclude_img_ids:
            self.num_excluded += 1
            return dict(img_id=img_id, instances=[], excluded=True)
        return super().parse_data_info(raw_data_info)

    def filter_data(self) -> List[dict]:
        """Drop the excluded images (logged with their count), then filter as CocoDataset does."""
        if self.exclude_img_ids:
            self.data_list = [d for d in self.data_list if not d.get('excluded')]
            print_log(
                f'{type(self).__name__}: left out {self.num_excluded} images of '
                f'{self.ann_file} (exclude_img_ids={sorted(self.exclude_img_ids)})',
                logger='current',
            )
        return super().filter_data()
