#!/bin/sh
# Stage 12 of the default RFB-320: stage 9's recipe (no teacher; WIDER-1k labels at the 10 px floor) from stage 11,
# the shipped default (the 1:1 mean of rfb-320-kd9 and rfb-640-kd4/probe-lowlr); seed 19. models/README.md, Recipes.
# The start: ultraface average training-runs/rfb-320-kd9/last.ckpt training-runs/rfb-640-kd4/probe-lowlr/last.ckpt \
#   --input-size 320 --no-fold-bn -o runs/soup-s11-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 12 --batch-size 24 --lr 0.005 --milestones 8,11 --warmup 50 \
  --augment default --seed 19 --validate-every 3 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/soup-s11-bn.onnx -o /work/main/runs/rfb-320-kd11 "$@"
# Ship rule, written before the run: ship the 1:1 mean of this run and a gentle 640 round from it (stage 11's:
# 1 epoch at lr 0.001, seed 18) if val-dev easy >= 0.781, medium >= 0.698, hard >= 0.40, 1/8/26/27.jpg stay at
# >= 80 %, and 17 + 25.jpg together find more than stage 11's 108.
