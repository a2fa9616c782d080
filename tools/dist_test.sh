#!/usr/bin/env bash
# Distributed evaluation on one node: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# CHECKPOINT may be "none" to evaluate the weights named by the config (Direct SAM). NPROC
# processes (one per GPU; without CUDA, CPU processes over gloo). Several nodes (NNODES,
# NODE_RANK, MASTER_ADDR, PORT) and the Python (MMPOINTSAM_PYTHON): tools/_launch.sh.
set -e
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
CKPT_ARG=()
if [ "$CHECKPOINT" != "none" ]; then CKPT_ARG=("$CHECKPOINT"); fi

source "$(dirname "$0")/_launch.sh"
torchrun_tool "$NPROC" test.py "$CONFIG" "${CKPT_ARG[@]}" --launcher pytorch "${@:4}"
