"""Download a source distribution from pip's package index without running its setup.py.

``pip download`` prepares metadata by running ``setup.py``, which for mmcv 2.0.1 fails on
Python >= 3.13 (its ``get_version`` reads exec'd names back through ``locals()``, PEP 667) before
the installer can patch it. This reads the index's simple page (PEP 503: ``PIP_INDEX_URL`` or
pip's ``global.index-url``, else PyPI), checks the file's sha256 and writes it atomically.

    python tools/fetch_sdist.py mmcv 2.0.1 DEST_DIR    # prints the path of the .tar.gz
"""

import hashlib
import os
import os.path as osp
import re
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request


def index_url() -> str:
    url = os.environ.get('PIP_INDEX_URL', '')
    if not url:
        out = subprocess.run(
            [sys.executable, '-m', 'pip', 'config', 'get', 'global.index-url'],
            capture_output=True,
            text=True,
        )
        url = out.stdout.strip() if out.returncode == 0 else ''
    return (url or 'https://pypi.org/simple').rstrip('/') + '/'


def fetch_sdist(name: str, version: str, dest: str) -> str:
    context = ssl.create_default_context(cafile=os.environ.get('PIP_CERT') or None)
    page_url = urllib.parse.urljoin(index_url(), f'{name}/')
    with urllib.request.urlopen(page_url, timeout=120, context=context) as r:
        page = r.read().decode('utf-8', 'replace')
    filename = f'{name}-{version}.tar.gz'
    links = [
        urllib.parse.urljoin(page_url, href)
        for href in re.findall(r'href="([^"]+)"', page)
        if urllib.parse.urlsplit(href).path.endswith('/' + filename)
        or urllib.parse.urlsplit(href).path == filename
    ]
    if not links:
        raise SystemExit(f'{filename} is not on {page_url}')
    url, _, fragment = links[0].partition('#')
    os.makedirs(dest, exist_ok=True)
    path = osp.join(dest, filename)
    digest = hashlib.sha256()
    with (
        urllib.request.urlopen(url, timeout=600, context=context) as r,
        open(path + '.part', 'wb') as f,
    ):
        for block in iter(lambda: r.read(1 << 20), b''):
            digest.update(block)
            f.write(block)
    expected = dict(p.split('=', 1) for p in fragment.split('&') if '=' in p).get('sha256')
    if expected and digest.hexdigest() != expected:
        os.remove(path + '.part')
        raise SystemExit(
            f'{url}: sha256 {digest.hexdigest()} does not match the index ({expected})'
        )
    os.replace(path + '.part', path)
    return path


if __name__ == '__main__':
    if len(sys.argv) != 4:
        raise SystemExit('usage: fetch_sdist.py NAME VERSION DEST_DIR')
    print(fetch_sdist(*sys.argv[1:]))
