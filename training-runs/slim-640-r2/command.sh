#!/bin/sh
# Session 21: a second gentle 640×480 round for slim, as slim-640-probe was for the slim-320 of session 13 and the
# 640 rounds were for RFB-320's stages 6–11: one epoch at lr 0.001 from the mean of slim-320-kd5 and slim-640-probe
# (session 17: 0.785 / 0.681 / 0.360 on val-dev, faces-voc 0.583), then its 1:1 mean with that start at 320×240.
# The start: ultraface average training-runs/slim-320-kd5/last.ckpt training-runs/slim-640-probe/last.ckpt \
#   --input-size 320 --no-fold-bn -o runs/slim-kd5-mean-bn.onnx
# Ship rule, written before the run (the slim rule of sessions 16–18): the mean
# (`ultraface average runs/slim-640-r2/last.ckpt runs/slim-kd5-mean-bn.onnx --input-size 320`) replaces the shipped
# slim-320 if it beats it on all three val-dev figures (0.768 / 0.660 / 0.365, ulfd) and keeps faces-voc AP50 >= 0.549.
L=/work/main/runs/labels
cd /work/train-snap11
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 --augment default --seed 30 \
  --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-kd5-mean-bn.onnx -o /work/main/runs/slim-640-r2 "$@"
# Result (session 21; 241 steps, 23 min with validation, side by side with rfb-320-kd25): at 640×480 0.795 / 0.778 /
# 0.572, faces-voc 0.651; run at 320×240 0.766 / 0.657 / 0.343. Its mean with the start (`ultraface average
# last.ckpt ../slim-320-kd5/last.ckpt ../slim-640-probe/last.ckpt --weights 2,1,1 --input-size 320`, the same
# weights): 0.773 / 0.672 / 0.354, faces-voc 0.583. Hard under the shipped 0.365: not shipped. last.ckpt is kept for
# slim-320-kd8's rule.
