#!/bin/sh
# Stage 17's second candidate: training-runs/rfb-320-kd17/command.sh's run plus upstream RFB-320's class term on
# WIDER-1k only (--distill 1,0 --distill-datasets 2, as rfb-320-kd14c: +5 faces on 17 + 25.jpg, faces-voc -0.018).
# Same seed (23), start and rule as rfb-320-kd17.
cd /work/train-snap5
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --ignore-small-background 1 \
  --teacher /work/shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 1,0 --distill-datasets 2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 4 --batch-size 24 --lr 0.001 --milestones 3 --warmup 50 \
  --augment upstream --seed 23 --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s13-bn.onnx -o /work/main/runs/rfb-320-kd17t "$@"
# Stopped after its second epoch (session 17): epoch 1 0.804 / 0.716 / 0.434, faces-voc 0.604, group
# 46/49/56/80/57/64; epoch 2 0.808 / 0.716 / 0.424, 0.608, 45/45/52/79/57/65. Faces-voc would have to gain 0.032 in
# the last two epochs and the crowds were not rising: it could not pass its rule.
