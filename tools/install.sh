#!/usr/bin/env bash
# Idempotent installer: a virtualenv in .venv with the pinned OpenMMLab stack and this package.
# mmcv 2.0.1 is source-only on PyPI and asks for -std=c++14, which torch>=2.1 headers reject; we
# build it once with C++17 and keep the wheel in $MMPOINTSAM_CACHE (default ~/.cache/mmpointsam)
# so later installs, fresh clones included, take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=${MMPOINTSAM_VENV:-$ROOT/.venv}
CACHE=${MMPOINTSAM_CACHE:-$HOME/.cache/mmpointsam}
WHEELS=$CACHE/wheels
MMCV_VERSION=2.0.1
mkdir -p "$WHEELS"

stamp_src=$(cat requirements/runtime.txt requirements/tests.txt tools/install.sh setup.py 2>/dev/null | sha1sum | cut -c1-12)
STAMP=$VENV/.mmpointsam-$stamp_src
if [[ -f $STAMP ]]; then
  exit 0
fi

log() { echo "[install] $(date +%H:%M:%S) $*"; }
t0=$(date +%s)
if [[ ! -x $VENV/bin/python ]]; then
  log "creating virtualenv $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
log "installing pinned requirements (torch wheels are large the first time)"
# numpy/torch first so that packages building from source see them
"${PIP[@]}" install -q "pip>=23" wheel ninja 'setuptools<70'
"${PIP[@]}" install -q -r requirements/runtime.txt -r requirements/tests.txt

mmcv_whl=$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
if [[ -z $mmcv_whl ]]; then
  log "building mmcv $MMCV_VERSION from source with C++17 (once; 10-25 min on 2 cores)"
  src=$(mktemp -d)
  "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$src"
  tar -xzf "$src"/mmcv-$MMCV_VERSION.tar.gz -C "$src"
  sed -i 's/-std=c++14/-std=c++17/g' "$src/mmcv-$MMCV_VERSION/setup.py"
  (cd "$src/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
     "${PIP[@]}" wheel -q --no-build-isolation --no-deps . -w "$src/dist")
  # publish atomically: a half-written wheel must never look cached
  built=$(ls "$src"/dist/mmcv-*.whl)
  cp "$built" "$WHEELS/.tmp-$(basename "$built")"
  mv "$WHEELS/.tmp-$(basename "$built")" "$WHEELS/$(basename "$built")"
  rm -rf "$src"
  mmcv_whl=$WHEELS/$(basename "$built")
fi
log "installing $(basename "$mmcv_whl")"
"${PIP[@]}" install -q --no-deps "$mmcv_whl"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
"$VENV/bin/python" -c "import mmpointsam, mmcv.ops, torchvision, mmdet, mmrotate; print('mmpointsam', mmpointsam.__version__, 'mmcv', mmcv.__version__, 'torch', __import__('torch').__version__)"
rm -f "$VENV"/.mmpointsam-*
touch "$STAMP"
log "done in $(( $(date +%s) - t0 )) s"
