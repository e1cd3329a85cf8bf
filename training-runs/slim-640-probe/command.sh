#!/bin/sh
# Probe: does the RFB-320 default's step (a gentle 640 round, then the 1:1 mean with its start at 320) lift slim-320?
# From the shipped slim-320 (runs/slim-320-kd/last.ckpt exported --no-fold-bn to runs/slim-320-kd-bn.onnx):
# stage 11's round (one epoch at 640×480, lr 0.001, seed 18, promoted WIDER-1k ×2, no teacher).
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment default --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-320-kd-bn.onnx -o /work/main/runs/slim-640-probe "$@"
