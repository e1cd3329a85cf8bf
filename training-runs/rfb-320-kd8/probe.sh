#!/bin/sh
# One-epoch probe from stage 7's start (the mean of stage 6 and its 640 round): stage 7's data, lr and seed, so
# its first epoch is the same batches; into runs/p7-<name>.
# Usage: probe.sh <name> [train args: the teacher settings of the probe]
set -e
name=$1; shift
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.005 --warmup 50 \
  --augment default --seed 14 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/soup-a50-bn.onnx -o "/work/main/runs/p7-$name" "$@"
