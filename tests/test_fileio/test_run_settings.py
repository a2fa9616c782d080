import json

import pytest

from mmpointsam.fileio import check_run_settings


def test_records_settings_then_accepts_the_same(tmp_path):
    path = tmp_path / 'settings.json'
    check_run_settings(dict(a=1, b='x'), str(path), str(tmp_path))
    assert json.loads(path.read_text()) == dict(a=1, b='x')
    check_run_settings(dict(b='x', a=1), str(path), str(tmp_path))  # key order is no difference


def test_refuses_other_settings_naming_the_keys(tmp_path):
    path = tmp_path / 'settings.json'
    check_run_settings(dict(a=1, b='x'), str(path), 'OUT')
    with pytest.raises(
        ValueError, match=r"OUT holds a run with other settings \(differing: \['a', 'c'\]"
    ):
        check_run_settings(dict(a=2, b='x', c=0), str(path), 'OUT')
    assert json.loads(path.read_text()) == dict(a=1, b='x')  # the old record stays
