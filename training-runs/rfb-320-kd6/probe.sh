#!/bin/sh
# One-epoch probe at 320×240 from RFB-640 weights (models/README.md, Recipes, RFB-320): stage 6's data, seed 13,
# validated after the epoch, into runs/rfb-320-<name>.
# Usage: probe.sh <name> <start: RFB-640 weights exported --no-fold-bn --input-size 320> <lr> <warm-up steps>
#   [--teacher] [extra train args]; --teacher adds stage 6's distillation from upstream's RFB-320 weights.
set -e
name=$1; start=$2; lr=$3; warmup=$4; shift 4
teacher=
if [ "$1" = --teacher ]; then
  shift
  teacher="--teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3"
fi
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr "$lr" --warmup "$warmup" \
  --augment default --seed 13 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init "$start" $teacher -o "/work/main/runs/rfb-320-$name" "$@"
