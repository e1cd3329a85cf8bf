#!/bin/sh
# Session 21 probe: does one low-rate epoch on faces-voc alone give faces-voc's ranking back to kd20's second epoch
# (25.jpg 109, faces-voc 0.634) and keep the crowd placement learned on WIDER-1k? Stage 17's teacher options, 159
# steps at lr 0.0001, seed 32. Rule, written before: a candidate under stage 18's (val-dev easy >= 0.781, medium
# >= 0.698, hard >= 0.40, faces-voc >= 0.64, each group photo at least 46 / 49 / 65 / 102 / 58 / 69), replacing the
# default if it has more of 25.jpg's faces.
# Start: ultraface export training-runs/rfb-320-kd20/epoch-2.ckpt --no-fold-bn --out runs/kd20-e2-bn.onnx
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap11
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.0001 --warmup 20 \
  --augment upstream --seed 32 --teacher $U/version-RFB-320.pth --distill 1,0 --teacher-ignore 0.03 \
  --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/kd20-e2-bn.onnx -o /work/main/runs/p21/e2-fvonly "$@"
# Result (session 21; 160 steps, 242 s sharing the cores with slim-320-kd8): 0.796 / 0.699 / 0.413, faces-voc 0.637,
# group photos 45 / 45 / 60 / 90 / 58 / 66. faces-voc alone takes the crowds away (25.jpg 109 -> 90) and does not give
# its own ranking back (0.637 < 0.64): fails, not shipped.
