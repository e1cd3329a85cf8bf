#!/bin/sh
# /work/train-snap4 held a copy of src at 58737cc; up-voc-nsn ran with a throwaway patch there (README).
# Session 17 one-epoch probes (stage 13's recipe: lr 0.001, seed 23, upstream augmentation, faces-voc + WIDER-1k x6).
# $1 = name, $2 = init, then extra train options.
set -e
name=$1; shift; init=$1; shift
L=/work/main/runs/labels
cd /work/train-snap4
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 23 --validate-every 1 --checkpoint-every 50 --keep-validated --workers 1 --threads 2 --shards 2 \
  --init $init -o /work/main/runs/p17/$name "$@"
