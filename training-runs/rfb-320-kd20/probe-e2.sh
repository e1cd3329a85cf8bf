#!/bin/sh
# Session 20 probes: one epoch at lr 0.0001 from this run's second epoch; $1 name, $2 faces-voc weight, then options
name=$1; fv=$2; shift 2
L=/work/main/runs/labels
cd /work/train-snap11
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc:$fv --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.0001 --warmup 50 \
  --augment upstream --seed 28 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/kd20-e2-bn.onnx -o /work/main/runs/p20/$name "$@"
# Start: ultraface export runs/rfb-320-kd20/epoch-2.ckpt --no-fold-bn --out runs/kd20-e2-bn.onnx (epoch-2.ckpt here).
# U=../shared/reference/upstream/models/pretrained. Results (session 20, side by side):
#   e2-s17  1 --teacher $U/version-RFB-320.pth --distill 1,0 --teacher-ignore 0.03 (stage 17's own options; 405
#           steps, 613 s): 0.802 / 0.713 / 0.421, faces-voc 0.637, group 46 / 48 / 65 / 102 / 58 / 68
#   e2-fv2  2 --teacher $U/version-RFB-320.pth --distill 1,4 --teacher-ignore 0.03 --distill-positive-boxes
#           --distill-box-datasets 2 --distill-box-max-prior 10 (kd20's options, faces-voc x2; 564 steps, 745 s):
#           0.795 / 0.703 / 0.413, faces-voc 0.635, group 46 / 48 / 66 / 104 / 58 / 68
# Neither keeps 25.jpg's 109 nor reaches faces-voc 0.64.
