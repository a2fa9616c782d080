import json
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import REPO

from mmpointsam.testing import build_mosaic

SHARED_NWPU = osp.join(osp.dirname(REPO), 'shared', 'data', 'nwpu_vhr10')
NWPU_TRAIN = osp.join(SHARED_NWPU, 'annotations', 'NWPU_instances_train.json')
needs_nwpu = pytest.mark.skipif(
    not osp.isfile(NWPU_TRAIN), reason='real NWPU VHR-10 not at ../shared/data/nwpu_vhr10'
)


@needs_nwpu
def test_mosaic_of_real_nwpu_images_moves_pixels_and_annotations(tmp_path):
    out = build_mosaic(
        NWPU_TRAIN, osp.join(SHARED_NWPU, 'images'), size=(4000, 4000), out_dir=str(tmp_path)
    )
    scene, coco, places = out['img'], out['coco'], out['placements']
    assert scene.shape == (4000, 4000, 3)
    assert len(places) >= 16  # NWPU tiles are ~500-1000 px
    with open(NWPU_TRAIN) as f:
        src = json.load(f)
    src_anns = {a['id']: a for a in src['annotations']}
    placed = {p['image_id']: p for p in places}
    assert len(coco['annotations']) == sum(a['image_id'] in placed for a in src['annotations'])
    # tiles do not overlap and lie inside the scene
    boxes = [(p['x'], p['y'], p['x'] + p['width'], p['y'] + p['height']) for p in places]
    for i, a in enumerate(boxes):
        assert a[2] <= 4000 and a[3] <= 4000
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    # pixels are the tiles' own (png is lossless)
    for p in places[:3]:
        tile = cv2.imread(osp.join(SHARED_NWPU, 'images', p['file_name']))
        np.testing.assert_array_equal(
            scene[p['y'] : p['y'] + p['height'], p['x'] : p['x'] + p['width']], tile
        )
    # annotations translated by their tile's offset
    for ann in coco['annotations']:
        orig, p = src_anns[ann['id']], placed[ann['source_image_id']]
        assert ann['image_id'] == 0
        np.testing.assert_allclose(ann['bbox'], np.add(orig['bbox'], [p['x'], p['y'], 0, 0]))
        for moved, poly in zip(ann['segmentation'], orig['segmentation']):
            np.testing.assert_allclose(
                np.reshape(moved, (-1, 2)) - (p['x'], p['y']), np.reshape(poly, (-1, 2))
            )
    # written files agree with what was returned
    np.testing.assert_array_equal(cv2.imread(out['img_path']), scene)
    with open(out['ann_file']) as f:
        written = json.load(f)
    assert written['images'] == [dict(id=0, file_name='mosaic.png', width=4000, height=4000)]
    assert len(written['annotations']) == len(coco['annotations'])


def test_mosaic_errors_name_the_file(tmp_path, data_dir):
    ann = osp.join(data_dir, 'nwpu_vhr10', 'annotations', 'train.json')
    with pytest.raises(ValueError, match='no image fits'):
        build_mosaic(ann, osp.join(data_dir, 'nwpu_vhr10', 'images'), size=(100, 100))
    with pytest.raises(FileNotFoundError, match='missing or unreadable'):
        build_mosaic(ann, str(tmp_path), size=(4000, 4000))
