#!/bin/sh
# Session 20 slim probe: does RFB-640's last step (one gentle epoch on WIDER-1k alone, upstream's augmentation, no
# teacher) lift the slim net at 320? From the 1:1 mean of slim-320-kd5 and slim-640-probe (session 17: 0.785 / 0.681 /
# 0.360 on val-dev, ulfd):
#   ultraface average training-runs/slim-320-kd5/last.ckpt training-runs/slim-640-probe/last.ckpt --input-size 320 \
#     --no-fold-bn -o runs/slim-kd5-mean-bn.onnx
# Result (246 steps, 328 s sharing the cores): 0.746 / 0.650 / 0.370, faces-voc 0.580. Easy and medium fall 0.04
# and 0.03 for hard +0.010: at 320 the WIDER epoch does not do for slim what it did for RFB-640. Not kept.
cd /work/train-snap11
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 27 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-kd5-mean-bn.onnx -o /work/main/runs/slim-p/wider-mean "$@"
