"""Annotation loading that checks the image against its annotation record."""

from mmdet.datasets.transforms import LoadAnnotations

from mmpointsam.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadSAMAnnotations(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` (boxes, labels, polygon -> bitmap masks by default) that first
    checks that the loaded image has the width/height its annotation file declares: polygons are
    rasterised on the image grid, so a mismatch would silently misplace every mask."""

    def __init__(
        self, with_bbox: bool = True, with_mask: bool = True, poly2mask: bool = True, **kwargs
    ) -> None:
        super().__init__(with_bbox=with_bbox, with_mask=with_mask, poly2mask=poly2mask, **kwargs)

    def transform(self, results: dict) -> dict:
        """Load the annotations, once the image is checked to have its declared size."""
        declared = (results.get('height'), results.get('width'))
        actual = tuple(results['ori_shape'][:2])
        if None not in declared and tuple(declared) != actual:
            raise ValueError(
                f'{results.get("img_path")}: the image is {actual[1]}x{actual[0]} '
                f'(w x h) but its annotation declares {declared[1]}x{declared[0]}'
            )
        return super().transform(results)
