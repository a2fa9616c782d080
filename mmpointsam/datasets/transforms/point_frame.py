"""Which image frame ``gt_points`` are in, so a geometric transform cannot silently leave them
behind.

Producers of ``gt_points`` (:class:`LoadPointLabels`, :class:`SamplePointPrompts`) stamp the
frame of the image at that moment: mmdet's ``homography_matrix`` (which every mmdet 3.x geometric
transform composes: flips, resizes, crops, rotations, shears, translations, affine), the image
shape and the flip state. A point-aware transform checks the stamp before it runs and stamps the
new frame after moving the points; ``PackSAMInputs`` checks it last. Any geometric transform that
moved the image but not the points therefore stops the pipeline with an error instead of
training on misplaced prompts.
"""

import numpy as np

FRAME_KEY = 'gt_points_frame'


def _current_frame(results: dict) -> dict:
    """The geometry the image is in now: homography, shape and flip of the pipeline so far."""
    homography = results.get('homography_matrix')
    return dict(
        homography=np.eye(3, dtype=np.float64)
        if homography is None
        else np.array(homography, dtype=np.float64),
        img_shape=tuple(results['img'].shape[:2])
        if 'img' in results
        else tuple(results.get('img_shape', ())[:2]),
        flip=bool(results.get('flip', False)),
        flip_direction=results.get('flip_direction'),
    )


def stamp_points_frame(results: dict, original: bool = False) -> None:
    """Record that ``results['gt_points']`` are in the current image frame, or with
    ``original`` in the frame of the image as loaded (annotation files), so that a geometric
    transform placed before the points were read is caught too."""
    frame = _current_frame(results)
    if original:
        shape = results.get('ori_shape', frame['img_shape'])
        frame = dict(
            homography=np.eye(3, dtype=np.float64),
            img_shape=tuple(shape[:2]),
            flip=False,
            flip_direction=None,
        )
    results[FRAME_KEY] = frame


def check_points_frame(results: dict, where: str) -> None:
    """Raise if the image moved since ``gt_points`` were stamped (no-op without a stamp)."""
    stamp = results.get(FRAME_KEY)
    if stamp is None or 'gt_points' not in results:
        return
    now = _current_frame(results)
    faults = []
    if not np.allclose(stamp['homography'], now['homography']):
        faults.append(f'homography {stamp["homography"].tolist()} -> {now["homography"].tolist()}')
    if stamp['img_shape'] != now['img_shape']:
        faults.append(f'image shape {stamp["img_shape"]} -> {now["img_shape"]}')
    if (stamp['flip'], stamp['flip_direction']) != (now['flip'], now['flip_direction']):
        faults.append(f'flip {stamp["flip_direction"]} -> {now["flip_direction"]}')
    if faults:
        raise RuntimeError(
            f'{results.get("img_path", "an image")}: a geometric transform moved the image but '
            f'not gt_points ({"; ".join(faults)}), found at {where}. In a point-label pipeline '
            'use point-aware transforms (RandomFlipPoints instead of RandomFlip) or sample the '
            'points after the geometric transforms.'
        )
