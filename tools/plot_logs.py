"""Plot loss and IoU curves from MMEngine json logs to a PNG, several runs on one figure.

A LOG is a json-lines file (``<work_dir>/<timestamp>/vis_data/scalars.json`` or
``<timestamp>.json``) or a work dir / log dir, where the newest ``vis_data/scalars.json`` is used.
Each key gets its own panel with one curve per run. The x axis is the training iteration;
validation results of epoch-based runs are placed at the last iteration of their epoch.

Example:
    python tools/plot_logs.py work_dirs/supervised_sam-vit-b-lora_10e_nwpu \
        work_dirs/pointsam_sam-vit-b-lora_10e_nwpu --keys loss 'loss_*' sam/mIoU \
        --legend supervised pointsam --out curves.png
"""

import argparse
import fnmatch
import glob
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Series = Tuple[List[float], List[float]]


def resolve_log(path: str) -> str:
    """The json log for ``path``: the file itself or the newest scalars.json under a folder."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path}: no such log file or folder')
    for pattern in ('vis_data/scalars.json', '*/vis_data/scalars.json', '*.json', '*/*.json'):
        found = sorted(glob.glob(osp.join(path, pattern)))
        if found:  # timestamps sort chronologically: the last one is the newest run
            return found[-1]
    raise FileNotFoundError(
        f'{path}: no MMEngine json log (looked for */vis_data/scalars.json and <timestamp>.json)'
    )


def load_log(path: str) -> Dict[str, Series]:
    """Every numeric key of a json-lines log as (x, y) lists, x in training iterations."""
    records = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{lineno}: not a json line ({e.msg})') from None
    train = [r for r in records if 'iter' in r]
    by_epoch = any('epoch' in r for r in train)
    epoch_end = {}
    for r in train:
        if by_epoch and 'epoch' in r:
            epoch_end[r['epoch']] = max(epoch_end.get(r['epoch'], 0), r.get('step', r['iter']))
    series: Dict[str, Series] = OrderedDict()
    for index, r in enumerate(records, 1):
        if 'iter' in r:
            x = r.get('step', r['iter'])
        elif 'step' in r:  # a validation result: step is the epoch of epoch-based runs
            x = epoch_end.get(r['step'], r['step']) if by_epoch else r['step']
        else:  # a test-only log: its result is the start point, before any training
            x = index if train else 0
        for key, value in r.items():
            if (
                key in ('step', 'iter', 'epoch')
                or isinstance(value, bool)
                or not isinstance(value, (int, float))
            ):
                continue
            xs, ys = series.setdefault(key, ([], []))
            xs.append(x)
            ys.append(value)
    return series


def match_keys(patterns: Sequence[str], available: Sequence[str]) -> List[str]:
    """Keys matching the patterns (exact names or shell wildcards such as ``loss_*``), in order."""
    keys = []
    for pattern in patterns:
        for key in available:
            if fnmatch.fnmatchcase(key, pattern) and key not in keys:
                keys.append(key)
    return keys


def legend_name(path: str) -> str:
    """A readable run name: the work dir of a log (``<work_dir>/<timestamp>/...``)."""
    parts = osp.normpath(osp.abspath(path)).split(os.sep)
    if 'vis_data' in parts:
        parts = parts[: parts.index('vis_data')]
    else:
        parts = parts[:-1]
    if parts and parts[-1][:8].isdigit():  # the timestamp folder
        parts = parts[:-1]
    return parts[-1] if parts else path


def plot_logs(
    logs: Sequence[str],
    keys: Sequence[str],
    out: str,
    legends: Sequence[str] = None,
    title: str = None,
) -> List[str]:
    """Plot ``keys`` of every log to ``out``; returns the keys that were plotted."""
    paths = [resolve_log(p) for p in logs]
    if legends is not None and len(legends) != len(paths):
        raise ValueError(f'{len(legends)} legends for {len(paths)} logs')
    legends = legends or [legend_name(p) for p in paths]
    data = [load_log(p) for p in paths]
    available = list(OrderedDict.fromkeys(k for d in data for k in d))
    plotted = match_keys(keys, available)
    if not plotted:
        raise KeyError(f'none of the keys {list(keys)} is in the logs; they have {available}')
    fig, axes = plt.subplots(
        len(plotted), 1, figsize=(8, 2.8 * len(plotted)), squeeze=False, sharex=True
    )
    for ax, key in zip(axes[:, 0], plotted):
        for name, series in zip(legends, data):
            if key not in series:
                continue
            xs, ys = series[key]
            # few points (validation): markers, so that a single result still shows
            ax.plot(xs, ys, marker='o' if len(xs) <= 20 else None, markersize=4, label=name)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    axes[-1, 0].set_xlabel('iteration')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return plotted


def parse_args():
    parser = argparse.ArgumentParser(description='Plot curves from MMEngine json logs')
    parser.add_argument('logs', nargs='+', help='json logs, or work dirs holding them')
    parser.add_argument(
        '--keys',
        nargs='+',
        default=['loss', 'sam/mIoU'],
        help='keys to plot, wildcards allowed (e.g. loss "loss_*" "*IoU*")',
    )
    parser.add_argument('--legend', nargs='+', help='one name per log (default: work dir names)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--out', default='curves.png', help='PNG file to write')
    return parser.parse_args()


def main():
    args = parse_args()
    keys = plot_logs(args.logs, args.keys, args.out, args.legend, args.title)
    print(f'plotted {keys} to {args.out}')


if __name__ == '__main__':
    main()
