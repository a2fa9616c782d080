"""DOTA txt files: DOTA's header lines are skipped, every malformed line is named, and the
resumable writer keeps each box's difficult flag (#25)."""

import numpy as np
import pytest

from mmpointsam.fileio import DotaTxtError, RBoxLabelWriter, load_dota_txt, rbox_to_coco_ann


def test_header_lines_are_skipped_and_difficulty_read(tmp_path):
    path = tmp_path / 'P0001.txt'
    path.write_text(
        'imagesource:GoogleEarth\r\ngsd:0.146\r\n'
        '1 2 11 2 11 7 1 7 plane 0\r\n\r\n3 3 9 3 9 9 3 9 ship 1\r\n'
    )
    corners, names, diffs = load_dota_txt(str(path))
    assert corners.shape == (2, 4, 2) and corners[0, 2].tolist() == [11.0, 7.0]
    assert names == ['plane', 'ship'] and diffs.tolist() == [0, 1]


def test_every_malformed_line_is_named(tmp_path):
    path = tmp_path / 'P0002.txt'
    path.write_text(
        '1 2 3 4 5 6 7 8 plane 0\n1 2 3 4 plane\n'
        '1 2 3 4 5 6 7 inf ship 0\n1 2 3 4 5 6 7 8 ship 1.0\n'
    )
    with pytest.raises(DotaTxtError) as excinfo:
        load_dota_txt(str(path))
    err = excinfo.value
    assert [line for line, _ in err.faults] == [2, 3, 4]
    text = str(err)
    assert text.startswith(f'3 malformed lines in {path}:')
    assert f'{path}:2: expected "x1 y1 ... x4 y4 class [difficulty]", got \'1 2 3 4 plane\'' in text
    assert f"{path}:3: coordinates must be finite, got '1 2 3 4 5 6 7 inf'" in text
    assert f"{path}:4: difficulty must be an integer, got '1.0'" in text


def test_writer_keeps_the_difficult_flag(tmp_path):
    image = dict(id=1, file_name='P0001.png', width=100, height=100)
    writer = RBoxLabelWriter(
        str(tmp_path / 'out'), [image], [dict(id=1, name='ship')], settings=dict(run=1)
    )
    rbox = np.array([50.0, 50.0, 20.0, 10.0, 0.3])
    anns = [
        rbox_to_coco_ann(rbox, 7, 1, 1, difficult=1),
        rbox_to_coco_ann(rbox + [5, 0, 0, 0, 0], 8, 1, 1),  # no flag: 0, as before
    ]
    writer.write_image(image, anns)
    result = writer.finalize()
    _, _, diffs = load_dota_txt(writer.txt_path(1))
    assert diffs.tolist() == [1, 0]
    assert result['num_boxes'] == 2
