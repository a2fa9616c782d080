#!/usr/bin/env bash
# Point labels -> rotated boxes as a slurm job, one task per GPU (as MMDetection's slurm scripts):
#   GPUS=16 bash tools/slurm_point2rbox.sh PARTITION JOB_NAME CONFIG POINTS IMG_DIR OUT [args]
# OUT must be on a file system every node sees. A second job on the same OUT shares the work
# (claim files); a rerun after a failure resumes. GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS:
# tools/_launch.sh.
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
POINTS=$4
IMG_DIR=$5
OUT=$6
PY_ARGS=${@:7}

source "$(dirname "$0")/_launch.sh"
srun_tool "$PARTITION" "$JOB_NAME" tools/point2rbox.py ${CONFIG} ${POINTS} ${IMG_DIR} ${OUT} \
    --device cuda --launcher="slurm" ${PY_ARGS}
