#!/bin/sh
# One-epoch slim-320 probe from the shipped slim-320 (lr 0.001, seed 20, upstream's augmentation, as probe-up)
# with upstream RFB-320 as teacher on the class scores only (--distill 1,0): the RFB-320 probe that kept hard AP
# (training-runs/rfb-320-kd14/probe.sh, dcls). The start: runs/slim-s13-bn.onnx (probe.sh).
cd /work/train-snap
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --teacher /work/shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 1,0 \
  --augment upstream --seed 20 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 1 --shards 1 \
  --init /work/main/runs/slim-s13-bn.onnx -o /work/main/runs/p13s/teacher-cls
