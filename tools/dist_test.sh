#!/usr/bin/env bash
# Distributed evaluation on one node: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# CHECKPOINT may be "none" to evaluate the weights named by the config (Direct SAM). NPROC
# processes (one per GPU; without CUDA, CPU processes over gloo). PYTHON defaults to the
# repository's .venv/bin/python when it exists.
set -e
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$PYTHON" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
CKPT_ARG=()
if [ "$CHECKPOINT" != "none" ]; then CKPT_ARG=("$CHECKPOINT"); fi

PYTHONPATH="$ROOT":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run --nproc_per_node=$NPROC --master_addr=$MASTER_ADDR \
    --master_port=$PORT "$ROOT/tools/test.py" "$CONFIG" "${CKPT_ARG[@]}" --launcher pytorch \
    "${@:4}"
