"""Atomic file writes: a reader sees either the old file or the complete new one, never a part."""

import contextlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w', **kwargs) -> Iterator:
    """Open a temporary file next to ``path``; on success it replaces ``path`` (``os.replace``).

    On an exception the temporary file is removed and ``path`` is left as it was. The temporary
    name starts with '.' and ends with '.tmp', so globs like ``*.txt``/``*.json`` never see it.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_dump_json(obj: Any, path: str, **kwargs) -> None:
    """``json.dump`` to ``path`` atomically."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, **kwargs)
