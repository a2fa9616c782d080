#!/usr/bin/env bash
# Distributed training on one node: bash tools/dist_train.sh CONFIG NPROC [train.py args]
# NPROC processes (one per GPU; on a machine without CUDA, CPU processes over gloo).
# The Python is the repository's .venv/bin/python when it exists (MMPOINTSAM_PYTHON overrides).
set -e
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# the repository's venv (the installed stack); PYTHON is the installer's base interpreter, so
# another runner is named by MMPOINTSAM_PYTHON
PY=${MMPOINTSAM_PYTHON:-}
if [ -z "$PY" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=python; fi
fi

PYTHONPATH="$ROOT":$PYTHONPATH \
"$PY" -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$ROOT/tools/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
