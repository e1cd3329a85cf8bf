#!/bin/sh
# Session 21: one more epoch of slim-320-kd8's recipe at lr 0.0005 from its end (seed 33). kd8's end found crowds as
# no slim before it (group photos 43 / 50 / 56 / 87 / 56 / 64 against the shipped slim's 40 / 35 / 33 / 36 / 44 / 41,
# val-dev hard 0.386 against 0.365) but missed the shipped easy and medium by 0.001 and 0.002, so kd8's rule did not
# ship it. Rule, written before this run: its end replaces the shipped slim-320 if it beats it on all three val-dev
# figures (0.768 / 0.660 / 0.365, ulfd), keeps faces-voc AP50 >= 0.549, and finds at least as many of upstream
# RFB-320's faces on each group photo as the shipped slim (40 / 35 / 33 / 36 / 44 / 41).
# Start: ultraface export runs/slim-320-kd8/last.ckpt --no-fold-bn --out runs/slim-kd8-bn.onnx
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap11
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 1 --batch-size 24 --lr 0.0005 --warmup 20 \
  --augment upstream --seed 33 --teacher $U/version-RFB-320.pth --distill 1,0 --teacher-ignore 0.03 \
  --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-kd8-bn.onnx -o /work/main/runs/slim-320-kd8-lowlr "$@"
# Result (session 21; 405 steps, 271 s alone): 0.766 / 0.659 / 0.383, faces-voc 0.617, group photos 44 / 50 / 56 / 88
# / 55 / 64. Easy and medium 0.002 and 0.001 under the shipped slim's again: not shipped.
