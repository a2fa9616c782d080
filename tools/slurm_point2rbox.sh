#!/usr/bin/env bash
# Point labels -> rotated boxes as a slurm job, one task per GPU (as MMDetection's slurm scripts):
#   GPUS=16 bash tools/slurm_point2rbox.sh PARTITION JOB_NAME CONFIG POINTS IMG_DIR OUT [args]
# OUT must be on a file system every node sees. A second job on the same OUT shares the work
# (claim files); a rerun after a failure resumes.
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
POINTS=$4
IMG_DIR=$5
OUT=$6
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=${@:7}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u tools/point2rbox.py ${CONFIG} ${POINTS} ${IMG_DIR} ${OUT} --device cuda \
    --launcher="slurm" ${PY_ARGS}
