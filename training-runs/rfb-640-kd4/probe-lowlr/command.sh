#!/bin/sh
# Probe: a gentler 640 round from stage 9 (one epoch at lr 0.001 instead of 3 epochs at 0.005/0.0005), to see
# whether its mean with stage 9 keeps stage 9's crowd faces while gaining easy and medium. Into runs/p640-lowlr.
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment default --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd9-bn.onnx -o /work/main/runs/p640-lowlr "$@"
