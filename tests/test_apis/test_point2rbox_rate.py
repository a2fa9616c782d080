"""The converter's rate line stays true for slow images: never '0.00 images/s' (#25)."""

import pytest

from mmpointsam.apis.point2rbox import format_rate, format_summary


@pytest.mark.parametrize(
    'rate,text',
    [
        (12.345, '12.35 images/s'),
        (1.0, '1.00 images/s'),
        (0.02, '72 images/h'),  # 50 s per image
        (1 / 7200, '0.5 images/h'),  # 2 h per image
        (float('nan'), 'no image converted'),
    ],
)
def test_rate(rate, text):
    assert format_rate(rate) == text


def test_summary_of_slow_images_says_images_per_hour():
    summary = dict(
        converted=3,
        skipped=0,
        images=3,
        weights='SAM vit_h',
        boxes_total=40,
        json='out/labels.json',
        empty_total=0,
        empty_per_class={},
        calibrated=5,
        images_per_s=3 / 150.0,
        total_s=150.0,
        encoder_s=120.0,
        decoder_s=24.0,
        encoded=3,
    )
    text = format_summary(summary)
    assert '72 images/h (50.000 s/img: encoder 40.000 s' in text
    assert '0.00 images/s' not in text
