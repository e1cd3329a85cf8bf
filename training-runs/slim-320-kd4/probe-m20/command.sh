#!/bin/sh
# One-epoch slim-320 probe (session 16): training-runs/slim-320-kd3/probe-up's recipe (upstream's augmentation, lr
# 0.001, seed 20, from the shipped slim-320: runs/slim-mean-bn.onnx, see ../command.sh) with priors matched at IoU 0.2
# (--match-iou 0.2), the switch that gave RFB-320 easy +0.030 and medium +0.042 in one epoch (rfb-320-kd15/probe-m20).
# Unlike probe-up it trains on 2 shards of 12 (the cores were free), so BatchNorm sees other batch statistics.
cd /work/train-snap3
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 --match-iou 0.2 \
  --augment upstream --seed 20 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-mean-bn.onnx -o /work/main/runs/slim-p-m20 "$@"
