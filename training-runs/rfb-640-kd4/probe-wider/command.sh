#!/bin/sh
# Probe for RFB-640's easy gap (issue #15; upstream's RFB-640 scores more of val-dev's easy faces at >= 0.9): one
# gentle epoch at 640×480 (lr 0.001, seed 18) from rfb-640-kd4 on WIDER-1k alone (promoted labels ×6, about the
# steps of an epoch of faces-voc + WIDER-1k ×2), to see whether faces-voc's mixed box styles hold easy down.
#   ultraface export training-runs/rfb-640-kd4/last.ckpt --no-fold-bn --out runs/rfb-640-kd4-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment default --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd4-bn.onnx -o /work/main/runs/p640-wider "$@"
