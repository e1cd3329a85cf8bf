#!/bin/sh
# One-epoch probes of WIDER's minimum face size from stage 8 (the shipped default since session 11): stage 9's
# data, lr and seed, with WIDER-1k's labels made at the 10 px rule (runs/labels/widerface-train-1k-promoted) or at
# 7.8 px (…-promoted-m78: upstream's 10 px on the 1024 px wide originals, scaled to this 800 px copy); into
# runs/p10-<name>. Usage: probe.sh <name> <WIDER-1k label folder>
# The start: ultraface average training-runs/rfb-320-kd8/last.ckpt training-runs/rfb-640-kd3/last.ckpt \
#   --input-size 320 --no-fold-bn -o runs/soup-k8-bn.onnx
set -e
name=$1; wider=$2
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset "voc:$wider:6" \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.005 --warmup 50 \
  --augment default --seed 17 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/soup-k8-bn.onnx -o "/work/main/runs/p10-$name"
