#!/usr/bin/env bash
# Distributed training on one node: bash tools/dist_train.sh CONFIG NPROC [train.py args]
# NPROC processes (one per GPU; on a machine without CUDA, CPU processes over gloo). Several
# nodes (NNODES, NODE_RANK, MASTER_ADDR, PORT) and the Python (MMPOINTSAM_PYTHON): tools/_launch.sh.
set -e
CONFIG=$1
NPROC=$2

source "$(dirname "$0")/_launch.sh"
torchrun_tool "$NPROC" train.py "$CONFIG" --launcher pytorch "${@:3}"
