#!/bin/sh
# One-epoch probes from stage 13 (lr 0.001, seed 23, upstream's augmentation): which data or teacher lifts the crowds?
# $1 = name, then the --dataset arguments and any other train options (the last value of an option wins). The start:
#   ultraface export training-runs/rfb-320-kd13g/last.ckpt --no-fold-bn --out runs/s13-bn.onnx
# With L=runs/labels, D="--dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6" and
# T=../shared/reference/upstream/models/pretrained/version-RFB-320.pth:
#   control  $D
#   m78      the same with WIDER-1k labels made at --wider-min-face 7.8 (upstream's 10 px at the originals' scale)
#   wider    --dataset voc:$L/widerface-train-1k-promoted:10 (WIDER-1k alone, about the control's 405 steps)
#   lr3      $D --lr 0.0003
#   d1       $D --teacher $T --distill 1,1
#   d4       $D --teacher $T --distill 4,1 --teacher-ignore 0.3
#   dcls     $D --teacher $T --distill 1,0
#   d1a      $D --teacher $T --distill 1,1 --distill-annotated 0.3
set -e
name=$1; shift
cd /work/train-snap
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 23 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 1 --shards 1 \
  --init /work/main/runs/s13-bn.onnx -o /work/main/runs/p14/$name "$@"
