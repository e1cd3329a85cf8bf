#!/bin/sh
# Stage 9 of the default RFB-320: stage 7's recipe (no teacher; seed 17) from stage 8, the shipped default (the
# 1:1 mean of rfb-320-kd8 and rfb-640-kd3). models/README.md, Recipes, RFB-320.
# The start: ultraface average training-runs/rfb-320-kd8/last.ckpt training-runs/rfb-640-kd3/last.ckpt \
#   --input-size 320 --no-fold-bn -o runs/soup-k8-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 12 --batch-size 24 --lr 0.005 --milestones 8,11 --warmup 50 \
  --augment default --seed 17 --validate-every 3 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/soup-k8-bn.onnx -o /work/main/runs/rfb-320-kd9 "$@"
