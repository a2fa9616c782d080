#!/usr/bin/env bash
# Training as a slurm job, one task per GPU (MMDetection's script):
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS: tools/_launch.sh.
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
PY_ARGS=${@:5}

source "$(dirname "$0")/_launch.sh"
srun_tool "$PARTITION" "$JOB_NAME" \
    tools/train.py ${CONFIG} --work-dir=${WORK_DIR} --launcher="slurm" ${PY_ARGS}
