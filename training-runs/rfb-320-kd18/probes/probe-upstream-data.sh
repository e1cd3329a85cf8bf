#!/bin/sh
# Session 18 diagnostics from upstream's RFB-320 weights (never kept nor shipped): one epoch on the
# datasets given by the caller (--dataset ...), at lr 0.001, seed 23, upstream's augmentation; checkpoints
# copied every 50 steps and the run stopped after step 100 or 200. /work/train-snap7 = main at 7b7335b. $1 = name, then
# --dataset ... and extra options, e.g.
#   up-voc-ti03 --dataset voc:/work/main/runs/labels/faces-voc:3 \
#     --teacher $U/version-RFB-320.pth --distill 0,0 --teacher-ignore 0.03
set -e
name=$1; shift
U=/work/shared/reference/upstream/models/pretrained
cd /work/train-snap7
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 23 --validate-every 1 --checkpoint-every 50 --keep-validated --workers 1 --threads 1 --shards 1 \
  --init $U/version-RFB-320.pth -o /work/main/runs/p17/$name "$@"
