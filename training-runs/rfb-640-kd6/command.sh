#!/bin/sh
# The gentle 640 round of stage 12 (stage 11's: one epoch at 640×480, lr 0.001, seed 18) from rfb-320-kd11:
#   ultraface export runs/rfb-320-kd11/last.ckpt --no-fold-bn --out runs/rfb-320-kd11-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment default --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd11-bn.onnx -o /work/main/runs/rfb-640-kd6 "$@"
