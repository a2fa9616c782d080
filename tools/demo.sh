#!/usr/bin/env bash
# The main job, short and on CPU: Direct SAM evaluation on NWPU VHR-10 test images, then LoRA
# fine-tuning with masks for a few iterations and evaluation of the result.
# usage: tools/demo.sh SAM_CHECKPOINT|none NUM_IMAGES NUM_ITERS
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=${1:-none}
N=${2:-20}
ITERS=${3:-20}
PY=.venv/bin/python
WORK=work_dirs/demo
if [[ $CKPT == none ]]; then
  echo "=============================================================================="
  echo " No SAM checkpoint given: the demo runs MobileSAM (vit_t) with RANDOM weights."
  echo " It shows the pipeline working end to end; its IoU/F1 numbers mean nothing."
  echo " For real numbers: make demo SAM_CHECKPOINT=checkpoints/mobile_sam.pt"
  echo "=============================================================================="
fi
echo "[demo] 1/2 Direct SAM on $N NWPU test images"
$PY tools/test.py configs/sam_direct/sam-direct_mobilesam-vit-t_nwpu.py --sam-checkpoint "$CKPT" \
  --work-dir $WORK/direct --cfg-options test_dataloader.dataset.indices=$N
echo "[demo] 2/2 supervised LoRA fine-tuning, $ITERS iterations, then evaluation on $N images"
$PY tools/train.py configs/supervised/supervised_mobilesam-vit-t-lora_10e_nwpu.py --sam-checkpoint "$CKPT" \
  --work-dir $WORK/supervised --cfg-options train_cfg.max_epochs=1 \
  train_dataloader.dataset.indices=$ITERS param_scheduler.0.end=$((ITERS / 4 + 1)) \
  default_hooks.logger.interval=5 val_dataloader.dataset.indices=$N
echo "[demo] done: logs and checkpoints in $WORK"
