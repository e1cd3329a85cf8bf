#!/bin/sh
# RFB-640 again, from stage 6's RFB-320 (the shipped default; runs/rfb-320-kd6-bn.onnx): rfb-640-kd's recipe.
# Also the first half of a 640 → 320 ratchet for the default (models/README.md, Recipes, RFB-320).
# The start: ultraface export training-runs/rfb-320-kd6/last.ckpt --no-fold-bn -o runs/rfb-320-kd6-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 3 --batch-size 24 --lr 0.005 --milestones 2 --warmup 50 \
  --augment default --seed 15 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd6-bn.onnx -o /work/main/runs/rfb-640-kd2 "$@"
