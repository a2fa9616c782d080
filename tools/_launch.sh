# Sourced by tools/dist_*.sh and tools/slurm_*.sh (not run on its own): the torchrun and srun
# invocations they share. Each entry script names its tool and arguments; this file adds the
# launcher and the environment variables below.

# torchrun_tool NPROC SCRIPT ARGS...: NPROC processes on this node (one per GPU; without CUDA,
# CPU processes over gloo) running tools/SCRIPT, the repository on PYTHONPATH. Several nodes:
# NNODES, NODE_RANK, MASTER_ADDR and PORT (29500) on each. The Python is the repository's
# .venv/bin/python when it exists; PYTHON is the installer's base interpreter, so another runner
# is named by MMPOINTSAM_PYTHON.
torchrun_tool() {
    local nproc=$1 script=$2 root py
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    py=${MMPOINTSAM_PYTHON:-}
    if [ -z "$py" ]; then
        if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python; fi
    fi
    PYTHONPATH="$root":$PYTHONPATH \
    "$py" -m torch.distributed.run \
        --nnodes=${NNODES:-1} \
        --node_rank=${NODE_RANK:-0} \
        --master_addr=${MASTER_ADDR:-"127.0.0.1"} \
        --nproc_per_node=$nproc \
        --master_port=${PORT:-29500} \
        "$root/tools/$script" "${@:3}"
}

# srun_tool PARTITION JOB_NAME PYTHON_ARGS...: `python -u PYTHON_ARGS` as a slurm job, one task
# per GPU (MMDetection's invocation, run from the repository root): GPUS (8) tasks,
# GPUS_PER_NODE (8) per node, CPUS_PER_TASK (5) each; SRUN_ARGS are passed to srun.
srun_tool() {
    local partition=$1 job_name=$2 gpus_per_node=${GPUS_PER_NODE:-8}
    PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
    srun -p ${partition} \
        --job-name=${job_name} \
        --gres=gpu:${gpus_per_node} \
        --ntasks=${GPUS:-8} \
        --ntasks-per-node=${gpus_per_node} \
        --cpus-per-task=${CPUS_PER_TASK:-5} \
        --kill-on-bad-exit=1 \
        ${SRUN_ARGS} \
        python -u "${@:3}"
}
