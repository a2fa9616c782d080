#!/usr/bin/env bash
# Point labels -> rotated boxes on NPROC processes per node (one per GPU; on a machine without
# CUDA, CPU processes over gloo), through torchrun:
#   bash tools/dist_point2rbox.sh CONFIG POINTS IMG_DIR OUT NPROC [point2rbox.py args]
# Several nodes: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=<node 0> PORT=29500 on each node, OUT on a
# shared file system. The images are shared by click count; a rerun resumes whatever NPROC.
# The Python (MMPOINTSAM_PYTHON): tools/_launch.sh.
set -e
CONFIG=$1
POINTS=$2
IMG_DIR=$3
OUT=$4
NPROC=$5

source "$(dirname "$0")/_launch.sh"
torchrun_tool "$NPROC" point2rbox.py "$CONFIG" "$POINTS" "$IMG_DIR" "$OUT" \
    --launcher pytorch "${@:6}"
