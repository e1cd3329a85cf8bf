#!/bin/sh
# One-epoch probes from stage 12 (lr 0.001, seed 20): does training nearer WIDER's native scale lift the crowds?
# $1 = name, $2 = augment (preset or JSON file). The start: ultraface export training-runs/rfb-320-kd11/last.ckpt \
#   --no-fold-bn --out runs/s12-bn.onnx
cd /work/train-snap
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment "$2" --seed 20 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 1 --shards 1 \
  --init /work/main/runs/s12-bn.onnx -o /work/main/runs/p13/$1
