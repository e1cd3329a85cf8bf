#!/bin/sh
# Session 19: does stage 17 keep the teacher's placement of small faces (probe s17-ti03-pbw3: 25.jpg misplaced 15 -> 9)
# and win back its scores and AP with more epochs? Stage 17's recipe from stage 17 itself, with the teacher's box term
# (weight 2) on WIDER-1k, positives included; 3 epochs, lr 0.001 then 0.0001 for the third, seed 25.
# The start: ultraface export training-runs/rfb-320-kd18/last.ckpt --no-fold-bn --out runs/s17-bn.onnx
# Rule, written first (stage 17's): easy >= 0.781, medium >= 0.698, hard >= 0.40, faces-voc >= 0.64, and each group
# photo at least stage 17's count (46 / 49 / 62 / 93 / 58 / 69).
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap8
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 3 --batch-size 24 --lr 0.001 --milestones 2 --warmup 50 \
  --augment upstream --seed 25 --teacher $U/version-RFB-320.pth --distill 1,2 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-datasets 2 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s17-bn.onnx -o /work/main/runs/rfb-320-kd19 "$@"
