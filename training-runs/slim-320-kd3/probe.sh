#!/bin/sh
# One-epoch slim-320 probes from the shipped slim-320 (lr 0.001, seed 20): does upstream augmentation help slim too?
# $1 = name, $2 = augment. The start: ultraface average training-runs/slim-320-kd2/last.ckpt \
#   runs/slim-640-probe/last.ckpt --input-size 320 --no-fold-bn --out runs/slim-s13-bn.onnx
cd /work/train-snap
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment "$2" --seed 20 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 1 --shards 1 \
  --init /work/main/runs/slim-s13-bn.onnx -o /work/main/runs/p13s/$1
