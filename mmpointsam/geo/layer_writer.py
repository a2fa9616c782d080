"""Write GIS layers atomically: a GeoPackage with several layers, or one GeoJSON / Shapefile per
layer. A file is written under a temporary name next to its destination and renamed into place
(``os.replace``), so a reader sees the complete old file or the complete new one."""

import contextlib
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Optional

FORMATS = {
    'gpkg': ('GPKG', '.gpkg'),
    'geojson': ('GeoJSON', '.geojson'),
    'shp': ('ESRI Shapefile', '.shp'),
}
SHAPEFILE_PARTS = ('.shp', '.shx', '.dbf', '.prj', '.cpg')
GEOMETRY_TYPES = {'masks': 'MultiPolygon', 'rboxes': 'Polygon'}


def layer_paths(out_dir: str, stem: str, fmt: str, names) -> Dict[str, str]:
    """Where each layer goes: ``<stem>.gpkg`` (all layers) or ``<stem>_<layer>.<ext>``."""
    if fmt not in FORMATS:
        raise ValueError(f'unknown vector format {fmt!r}; choose from {sorted(FORMATS)}')
    ext = FORMATS[fmt][1]
    if fmt == 'gpkg':
        return {name: osp.join(out_dir, stem + ext) for name in names}
    return {name: osp.join(out_dir, f'{stem}_{name}{ext}') for name in names}


def write_layers(
    layers: Dict[str, object],
    out_dir: str,
    stem: str,
    fmt: str = 'gpkg',
    metadata: Optional[dict] = None,
) -> Dict[str, str]:
    """Write GeoDataFrames ``layers`` (name -> frame); returns name -> path.

    ``metadata`` (JSON-able) is stored as the GeoPackage's dataset metadata item
    ``mmpointsam`` (GeoJSON and Shapefile have no such place: the run's json sidecar holds it).
    """
    import pyogrio

    driver, _ = FORMATS[fmt]
    paths = layer_paths(out_dir, stem, fmt, layers)
    os.makedirs(out_dir, exist_ok=True)
    meta = {'mmpointsam': json.dumps(metadata)} if metadata is not None else None

    def write_layer(frame, path: str, name: str, **kwargs) -> None:
        """Write layer ``name`` to ``path`` with its geometry type (masks as multipolygons)."""
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver=driver,
            geometry_type=GEOMETRY_TYPES.get(name),
            promote_to_multi=name == 'masks',
            **kwargs,
        )

    tmp_dir = tempfile.mkdtemp(prefix=f'.{stem}.', suffix='.tmp', dir=out_dir)
    try:
        if fmt == 'gpkg':
            tmp = osp.join(tmp_dir, osp.basename(paths[next(iter(layers))]))
            for i, (name, frame) in enumerate(layers.items()):
                write_layer(
                    frame, tmp, name, dataset_metadata=meta if i == 0 else None, append=False
                )
            os.replace(tmp, paths[next(iter(layers))])
            return paths
        for name, frame in layers.items():
            tmp = osp.join(tmp_dir, osp.basename(paths[name]))
            write_layer(frame, tmp, name)
            if fmt == 'shp':
                # the .shp last: readers open it first, so it appears once its parts are in place
                base = osp.splitext(paths[name])[0]
                with contextlib.suppress(FileNotFoundError):
                    os.remove(base + '.shp')
                for part in SHAPEFILE_PARTS[1:] + SHAPEFILE_PARTS[:1]:
                    src = osp.splitext(tmp)[0] + part
                    if osp.exists(src):
                        os.replace(src, base + part)
            else:
                os.replace(tmp, paths[name])
        return paths
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
