"""The README and the docs point at things that exist: every relative link resolves, and every
script and config a command block names is in the repository."""

import glob
import os.path as osp
import re

import pytest
from conftest import REPO

PAGES = sorted(
    {
        osp.relpath(p, REPO)
        for pattern in ('*.md', 'docs/**/*.md', 'configs/**/README.md')
        for p in glob.glob(osp.join(REPO, pattern), recursive=True)
    }
)
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
FENCE = re.compile(r'^```[^\n]*\n(.*?)^```', re.M | re.S)
# a script or config named in a command: `python tools/x.py`, `bash tools/x.sh`, a config path
SCRIPT = re.compile(r'(?<![\w./$-])tools/[\w./-]+\.(?:py|sh)\b')
CONFIG = re.compile(r'(?<![\w./$-])configs/[\w./+-]+\.py\b')


def _text(page):
    with open(osp.join(REPO, page), encoding='utf-8') as f:
        return f.read()


def _without_code(text):
    return FENCE.sub('', re.sub(r'`[^`\n]*`', '', text))


def test_pages_are_found():
    assert 'README.md' in PAGES and 'docs/en/get_started.md' in PAGES
    assert len(PAGES) >= 15


@pytest.mark.parametrize('page', PAGES)
def test_relative_links_resolve(page):
    missing = []
    for target in LINK.findall(_without_code(_text(page))):
        if re.match(r'^[a-z]+:', target) or target.startswith('#'):
            continue  # web addresses, mail, anchors in the page itself
        path = osp.normpath(osp.join(REPO, osp.dirname(page), target.split('#')[0]))
        if not osp.exists(path):
            missing.append(target)
    assert not missing, f'{page}: links to nothing: {missing}'


@pytest.mark.parametrize('page', PAGES)
def test_command_blocks_name_existing_scripts_and_configs(page):
    missing = []
    for block in FENCE.findall(_text(page)):
        for name in SCRIPT.findall(block) + CONFIG.findall(block):
            if not osp.isfile(osp.join(REPO, name)):
                missing.append(name)
    assert not missing, f'{page}: command blocks name missing files: {missing}'


def test_the_checks_catch_a_broken_link_and_a_missing_script(tmp_path):
    """The two patterns find what they are for (a page of known faults)."""
    page = '[a](docs/none.md) ![b](x.png) [c](https://x.org) `[d](e.md)`\n' + (
        '```bash\npython tools/none.py configs/none/x_y.py\n'
        'python $SPLIT .mim/tools/data/split.py\n```\n'
    )
    assert LINK.findall(_without_code(page)) == ['docs/none.md', 'x.png', 'https://x.org']
    block = FENCE.findall(page)[0]
    assert SCRIPT.findall(block) == ['tools/none.py']
    assert CONFIG.findall(block) == ['configs/none/x_y.py']
