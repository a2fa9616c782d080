#!/usr/bin/env bash
# Point labels -> rotated boxes on NPROC processes per node (one per GPU; on a machine without
# CUDA, CPU processes over gloo), through torchrun:
#   bash tools/dist_point2rbox.sh CONFIG POINTS IMG_DIR OUT NPROC [point2rbox.py args]
# Several nodes: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=<node 0> PORT=29500 on each node, OUT on a
# shared file system. The images are shared by click count; a rerun resumes whatever NPROC.
# The Python is the repository's .venv/bin/python when it exists (MMPOINTSAM_PYTHON overrides).
set -e
CONFIG=$1
POINTS=$2
IMG_DIR=$3
OUT=$4
NPROC=$5
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
    "$ROOT/tools/point2rbox.py" \
    "$CONFIG" "$POINTS" "$IMG_DIR" "$OUT" \
    --launcher pytorch "${@:6}"
