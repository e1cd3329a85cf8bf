#!/bin/sh
# The RFB-640 recipe (rfb-640-kd) from stage 10's RFB-320 (rfb-320-kd10), on its WIDER-1k labels (minimum face
# 7.8 px): the 640 half of the stage-11 mean.
# The start: ultraface export training-runs/rfb-320-kd10/last.ckpt --no-fold-bn -o runs/rfb-320-kd10-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted-m78:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 3 --batch-size 24 --lr 0.005 --milestones 2 --warmup 50 \
  --augment default --seed 19 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd10-bn.onnx -o /work/main/runs/rfb-640-kd5 "$@"
