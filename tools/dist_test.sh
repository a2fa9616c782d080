#!/usr/bin/env bash
# Distributed evaluation on one node: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# CHECKPOINT may be "none" to evaluate the weights named by the config (Direct SAM). NPROC
# processes (one per GPU; without CUDA, CPU processes over gloo). The Python is the repository's
# .venv/bin/python when it exists (MMPOINTSAM_PYTHON overrides).
set -e
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# the repository's venv (the installed stack); PYTHON is the installer's base interpreter, so
# another runner is named by MMPOINTSAM_PYTHON
PY=${MMPOINTSAM_PYTHON:-}
if [ -z "$PY" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=python; fi
fi
CKPT_ARG=()
if [ "$CHECKPOINT" != "none" ]; then CKPT_ARG=("$CHECKPOINT"); fi

PYTHONPATH="$ROOT":$PYTHONPATH \
"$PY" -m torch.distributed.run --nproc_per_node=$NPROC --master_addr=$MASTER_ADDR \
    --master_port=$PORT "$ROOT/tools/test.py" "$CONFIG" "${CKPT_ARG[@]}" --launcher pytorch \
    "${@:4}"
