#!/usr/bin/env bash
# Evaluation as a slurm job, one task per GPU (MMDetection's script):
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# CHECKPOINT may be "none" to evaluate the weights named by the config (Direct SAM).
# GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS: tools/_launch.sh.
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
PY_ARGS=${@:5}
if [ "$CHECKPOINT" == "none" ]; then CHECKPOINT=""; fi

source "$(dirname "$0")/_launch.sh"
srun_tool "$PARTITION" "$JOB_NAME" \
    tools/test.py ${CONFIG} ${CHECKPOINT} --launcher="slurm" ${PY_ARGS}
