#!/bin/sh
# Session 22: rfb-320-kd20's recipe (teacher's class term everywhere, its box term ×4 at the 10 px priors on WIDER-1k
# only) for 2 epochs at lr 0.001, seed 34, from stage 19 (the layer mix L1), training only the path of the smallest
# faces (new: --train-only base_net.7,classification_headers.0,regression_headers.0): the layer mixes put the crowd
# gain in that path and faces-voc in the rest, and the whole-network runs from L1 (rfb-320-kd26, -kd27) lost crowd
# faces. Here the rest keeps L1's weights and BatchNorm statistics and the path learns against it. Side by side with
# rfb-320-kd29 (the same with base_net.5 and .6 trained too).
# The start: runs/L1-bn.onnx (rfb-320-kd26/command.sh), the default as an unfolded export.
# Ship rule, written before the run: each epoch of this run and of rfb-320-kd29 is a candidate: val-dev (ulfd) easy
# >= 0.781, medium >= 0.698, hard >= 0.40, faces-voc test AP50 >= 0.64, and each group photo at least stage 19's 46 /
# 50 / 66 / 106 / 58 / 69; of those that pass, the one with the most of 25.jpg's faces (then the higher easy + medium +
# hard) replaces the default.
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap12
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 2 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 34 --teacher $U/version-RFB-320.pth --distill 1,4 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-box-datasets 2 --distill-box-max-prior 10 \
  --train-only base_net.7,classification_headers.0,regression_headers.0 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/L1-bn.onnx -o /work/main/runs/rfb-320-kd28 "$@"
