#!/bin/sh
# Issue #15 ablation: one short run per switch, all from the earlier default (faces-voc only, runs/rfb-320-bn.onnx),
# faces-voc + WIDER-1k ×3, 4 epochs (lr 0.01, ×0.1 after epoch 3), seed 11, validated after the last epoch.
# Usage: training-runs/ablation/run.sh <name> <faces-voc dataset spec> <WIDER-1k dataset spec> [extra train args...]
set -e
name=$1; faces=$2; wider=$3; shift 3
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset "$faces" --dataset "$wider" \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 4 --batch-size 24 --lr 0.01 --milestones 3 --warmup 100 \
  --augment default --seed 11 --validate-every 4 --checkpoint-every 100 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-bn.onnx -o /work/main/runs/ablation/$name "$@"
