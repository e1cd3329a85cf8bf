#!/bin/sh
# /work/train-snap4 held a copy of src at 58737cc; up-voc-nsn ran with a throwaway patch there (README).
# Like probe.sh, datasets given by the caller. $1 = name, $2 = init, then --dataset … and extra options.
set -e
name=$1; shift; init=$1; shift
cd /work/train-snap4
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 23 --validate-every 1 --checkpoint-every 50 --keep-validated --workers 1 --threads 1 --shards 1 \
  --init $init -o /work/main/runs/p17/$name "$@"
