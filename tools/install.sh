#!/usr/bin/env bash
# Idempotent installer: a virtualenv (.venv) with the pinned stack (requirements/) and this package.
#
# mmcv 2.0.1 is source-only on PyPI. It is built once per (Python, torch, CUDA, GPU archs) and the
# wheel is kept in $MMPOINTSAM_CACHE (default ~/.cache/mmpointsam), published atomically, so later
# installs and fresh clones take seconds.
#
# Environment:
#   PYTHON                 interpreter for a new venv (default: first of python3.12, 3.11, 3.13,
#                          3.10, python3 that runs and is 3.10-3.13)
#   MMPOINTSAM_VENV        venv path (default .venv)
#   MMPOINTSAM_CACHE       wheel cache (default ~/.cache/mmpointsam)
#   MMPOINTSAM_CUDA        auto (default: CUDA ops when nvidia-smi lists a GPU) | 1 | 0
#   TORCH_CUDA_ARCH_LIST   GPU archs to build for (default: the visible GPUs', else
#                          "7.5;8.0;8.6;8.9;9.0;10.0;12.0", every arch CUDA 13 supports)
#   CUDA_HOME              a CUDA toolkit whose nvcc matches torch's CUDA (default: the system
#                          nvcc if it matches, else NVIDIA's compiler wheels from PyPI)
#   MAX_JOBS               parallel compile jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${MMPOINTSAM_VENV:-$ROOT/.venv}
CACHE=${MMPOINTSAM_CACHE:-$HOME/.cache/mmpointsam}
MMCV_VERSION=2.0.1
CUDA_MODE=${MMPOINTSAM_CUDA:-auto}
DEFAULT_ARCHS="7.5;8.0;8.6;8.9;9.0;10.0;12.0"

log() { echo "[install] $(date +%H:%M:%S) $*"; }
die() { echo "[install] ERROR: $*" >&2; exit 1; }

supported() {  # is $1 a runnable Python 3.10-3.13?
  "$1" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null
}

# --- which Python -------------------------------------------------------------------------------
if [[ -x $VENV/bin/python ]]; then
  PY=$VENV/bin/python
  supported "$PY" || die "$VENV has $("$PY" --version 2>&1); mmpointsam needs Python 3.10-3.13: remove $VENV"
  if [[ -n ${PYTHON:-} ]]; then
    want=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
      || die "PYTHON=$PYTHON does not run"
    have=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [[ $want == "$have" ]] || die "$VENV is Python $have but PYTHON=$PYTHON is $want: remove $VENV or set MMPOINTSAM_VENV"
  fi
else
  if [[ -n ${PYTHON:-} ]]; then
    supported "$PYTHON" || die "PYTHON=$PYTHON is not a runnable Python 3.10-3.13"
    PY=$PYTHON
  else
    PY=
    for cand in python3.12 python3.11 python3.13 python3.10 python3; do
      if supported "$cand"; then PY=$cand; break; fi
    done
    [[ -n $PY ]] || die "no Python 3.10-3.13 found: install one or set PYTHON=/path/to/python3.x"
  fi
fi

# --- CPU or CUDA ops ----------------------------------------------------------------------------
gpu_caps() { command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | sort -u | paste -sd';' || true; }
case $CUDA_MODE in
  auto) caps=$(gpu_caps); if [[ -n $caps ]]; then WITH_CUDA=1; else WITH_CUDA=0; fi ;;
  1) caps=$(gpu_caps); WITH_CUDA=1 ;;
  0) caps=; WITH_CUDA=0 ;;
  *) die "MMPOINTSAM_CUDA must be auto, 1 or 0, not '$CUDA_MODE'" ;;
esac
ARCHS=
if [[ $WITH_CUDA == 1 ]]; then ARCHS=${TORCH_CUDA_ARCH_LIST:-${caps:-$DEFAULT_ARCHS}}; fi

stamp_src=$( (cat requirements/runtime.txt requirements/sam2.txt requirements/tests.txt tools/install.sh tools/fetch_sdist.py setup.py; echo "cuda=$WITH_CUDA archs=$ARCHS") | sha1sum | cut -c1-12)
STAMP=$VENV/.mmpointsam-$stamp_src
if [[ -f $STAMP ]]; then
  exit 0
fi

t0=$(date +%s)
if [[ ! -x $VENV/bin/python ]]; then
  log "creating virtualenv $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi
VPY=$VENV/bin/python
PIP=("$VPY" -m pip --disable-pip-version-check)
log "installing pinned requirements ($("$VPY" --version); torch wheels are large the first time)"
"${PIP[@]}" install -q "pip>=23" wheel ninja 'setuptools<70'
"${PIP[@]}" install -q -r requirements/runtime.txt -r requirements/tests.txt
SAM2_BUILD_CUDA=0 "${PIP[@]}" install -q --no-build-isolation -r requirements/sam2.txt

read -r TORCH_VER TORCH_CUDA PYTAG < <("$VPY" -c 'import sys, torch; print(torch.__version__.split("+")[0], torch.version.cuda or "none", "cp%d%d" % sys.version_info[:2])')

# --- a CUDA compiler that matches torch's CUDA --------------------------------------------------
BUILD_ENV=(MMCV_WITH_OPS=1 FORCE_CUDA=0)
if [[ $WITH_CUDA == 1 ]]; then
  [[ $TORCH_CUDA != none ]] || die "CUDA ops asked for, but torch $TORCH_VER is a CPU-only build"
  nvcc_release() { "$1" --version 2>/dev/null | sed -n 's/.*release \([0-9]*\.[0-9]*\).*/\1/p'; }
  # the toolkit an nvcc belongs to, as nvcc itself reports it (nvcc may be a wrapper script)
  nvcc_top() { "$1" --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -n1; }
  # torch's CUDA headers include the CUDA libraries' headers: a compiler-only toolkit cannot build
  TORCH_CUDA_HEADERS="cuda_runtime_api.h cusparse.h cublas_v2.h cublasLt.h cusolverDn.h"
  NVCC= TOOLKIT=
  for cand in ${CUDA_HOME:+$CUDA_HOME/bin/nvcc} $(command -v nvcc || true) /usr/local/cuda/bin/nvcc; do
    [[ -x $cand && $(nvcc_release "$cand") == "$TORCH_CUDA" ]] || continue
    top=$(nvcc_top "$cand"); top=${top:+$(readlink -f "$top")}
    missing=
    for h in $TORCH_CUDA_HEADERS; do [[ -e $top/include/$h ]] || missing+=" $h"; done
    if [[ -n $top && -z $missing ]]; then NVCC=$cand TOOLKIT=$top; break; fi
    log "CUDA ops: not using $cand (toolkit ${top:-unknown}): it lacks$missing, which torch's CUDA headers include"
  done
  if [[ -n $NVCC ]]; then
    log "CUDA ops: system nvcc $NVCC (toolkit $TOOLKIT, CUDA $TORCH_CUDA)"
  else
    # NVIDIA's compiler wheels, the exact version torch itself depends on
    kit=$("$VPY" -c 'from importlib import metadata as m; print(m.version("cuda-toolkit"))' 2>/dev/null) \
      || die "no nvcc for CUDA $TORCH_CUDA found and torch does not depend on cuda-toolkit: set CUDA_HOME"
    log "CUDA ops: installing NVIDIA's CUDA $TORCH_CUDA compiler from PyPI (cuda-toolkit $kit)"
    "${PIP[@]}" install -q "cuda-toolkit[nvcc,crt,cccl,nvvm,cudart]==$kit"
    site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    major=${TORCH_CUDA%%.*}
    TOOLKIT=$site/nvidia/cu$major
    [[ -x $TOOLKIT/bin/nvcc ]] || die "cuda-toolkit $kit installed no $TOOLKIT/bin/nvcc"
    # the CUDA libraries' headers come with torch's own nvidia-* dependencies, in the same folder
    for h in $TORCH_CUDA_HEADERS; do
      [[ -e $TOOLKIT/include/$h ]] || die "$TOOLKIT/include has no $h, which torch's CUDA headers include"
    done
    # torch's extension builder links -lcudart from $CUDA_HOME/lib64
    [[ -e $TOOLKIT/lib64 ]] || ln -s lib "$TOOLKIT/lib64"
    [[ -e $TOOLKIT/lib/libcudart.so ]] || ln -s "$(basename "$(ls "$TOOLKIT"/lib/libcudart.so.* | head -n1)")" "$TOOLKIT/lib/libcudart.so"
  fi
  BUILD_ENV=(MMCV_WITH_OPS=1 FORCE_CUDA=1 CUDA_HOME="$TOOLKIT" TORCH_CUDA_ARCH_LIST="$ARCHS"
             PATH="$TOOLKIT/bin:$PATH")
  KEY=$PYTAG-torch$TORCH_VER-cu${TORCH_CUDA/./}-sm$(echo "$ARCHS" | tr -d '.' | tr ';' '-')
else
  KEY=$PYTAG-torch$TORCH_VER-cpu
fi

# --- mmcv: cached wheel, else build once ---------------------------------------------------------
WHEEL_DIR=$CACHE/wheels/mmcv-$MMCV_VERSION/$KEY
mmcv_whl=$(ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
if [[ -z $mmcv_whl ]]; then
  if [[ $WITH_CUDA == 1 ]]; then took="CPU and CUDA ops for one GPU arch took 25 min on 2 cores, more archs take longer"
  else took="CPU ops take about 10 min on 2 cores"; fi
  log "building mmcv $MMCV_VERSION ($KEY) from source, once; $took"
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  # not `pip download`: it runs setup.py, which fails on Python 3.13 before it can be patched
  "$VPY" tools/fetch_sdist.py mmcv "$MMCV_VERSION" "$src" >/dev/null
  tar -xzf "$src"/mmcv-$MMCV_VERSION.tar.gz -C "$src"
  # mmcv 2.0.1 asks for C++14; torch >= 2.1 headers need C++17
  sed -i 's/-std=c++14/-std=c++17/g' "$src/mmcv-$MMCV_VERSION/setup.py"
  # its get_version reads exec'd names through locals(), which Python 3.13 no longer fills (PEP 667)
  sed -i "s/exec(compile(f.read(), version_file, 'exec'))/exec(compile(f.read(), version_file, 'exec'), globals())/; s/return locals()\['__version__'\]/return globals()['__version__']/" "$src/mmcv-$MMCV_VERSION/setup.py"
  grep -q "return globals()\['__version__'\]" "$src/mmcv-$MMCV_VERSION/setup.py" || die "mmcv's setup.py changed: the version patch did not apply"
  (cd "$src/mmcv-$MMCV_VERSION" && env "${BUILD_ENV[@]}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
     "${PIP[@]}" wheel -q --no-build-isolation --no-deps . -w "$src/dist")
  # publish atomically: a half-written wheel must never look cached
  mkdir -p "$(dirname "$WHEEL_DIR")"
  tmp_dir=$(mktemp -d "$(dirname "$WHEEL_DIR")/.tmp-XXXXXX")
  cp "$src"/dist/mmcv-*.whl "$tmp_dir/"
  mv -T "$tmp_dir" "$WHEEL_DIR" 2>/dev/null || rm -rf "$tmp_dir"  # another install won the race
  mmcv_whl=$(ls "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl | head -n1)
fi
log "installing mmcv from $mmcv_whl"
"${PIP[@]}" install -q --no-deps --force-reinstall "$mmcv_whl"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
"$VPY" -m mmpointsam.utils.collect_env
"$VPY" -c "from mmpointsam.utils.stack import check_stack; check_stack()"
rm -f "$VENV"/.mmpointsam-*
touch "$STAMP"
log "done in $(( $(date +%s) - t0 )) s"
