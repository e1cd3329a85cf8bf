#!/bin/sh
# probe-wider continued: two more gentle epochs at 640×480 on WIDER-1k alone (lr 0.001, seed 19), to see how far
# easy climbs without faces-voc.
#   ultraface export runs/p640-wider/last.ckpt --no-fold-bn --out runs/p640-wider-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 2 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment default --seed 19 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/p640-wider-bn.onnx -o /work/main/runs/p640-wider2 "$@"
