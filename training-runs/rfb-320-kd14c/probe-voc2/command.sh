#!/bin/sh
# One-epoch probe from rfb-320-kd14c (exported --no-fold-bn as runs/s14c-bn.onnx): its recipe with faces-voc weighted
# up (x2), to see whether faces-voc AP50 comes back over 0.64 while the crowd faces stay. lr 0.001, seed 27.
cd /work/train-snap2
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc:2 --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --teacher /work/shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 1,0 --distill-datasets 2 \
  --augment upstream --seed 27 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s14c-bn.onnx -o /work/main/runs/p14c-voc2 "$@"
