#!/bin/sh
# Session 18 one-epoch student probes with stage 14's control recipe (seed 23, lr 0.001, upstream's augmentation,
# faces-voc + promoted WIDER-1k x6), from stage 13 (runs/s13-bn.onnx = `ultraface export
# training-runs/rfb-320-kd13g/last.ckpt --no-fold-bn`) or the start in $INIT. $1 = name, then extra options, e.g.
#   s13-ti --teacher $U/version-RFB-320.pth --distill 1,0 --teacher-ignore 0.3
# $SNAP: the source snapshot it runs (default /work/train-snap7, main at 7b7335b; session 19's probes ran
# /work/train-snap8, main at bead894, for --teacher-input, and /work/train-snap9 at d8bf678).
set -e
name=$1; shift
L=/work/main/runs/labels
cd ${SNAP:-/work/train-snap7}
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 23 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init ${INIT:-/work/main/runs/s13-bn.onnx} -o /work/main/runs/p17/$name "$@"
