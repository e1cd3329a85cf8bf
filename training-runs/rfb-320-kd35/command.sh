#!/bin/sh
# Session 23: a repeat of stage 20's recipe with a new seed (40): rfb-320-kd33's first epoch (from stage 19, only the
# first level's box head trained, the teacher's box term ×16 at the 10 px priors of WIDER-1k, lr 0.002), then its box
# head averaged 1:1 with stage 19's (`ultraface average runs/rfb-320-kd35/epoch-1.ckpt runs/L1-bn.onnx`). Side by side
# with rfb-320-kd34 (seed 39). Why: stage 20 met its rules at 110 of 25.jpg's faces, and its runs moved
# 102-110 between epochs; these two say how often the recipe gives 108 (80 %) or more, the group-photo test's mark.
# Written before the run: nothing from it ships; its figures go to the card and the closing note as they come.
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap12
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.002 --warmup 50 \
  --augment upstream --seed 40 --teacher $U/version-RFB-320.pth --distill 1,16 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-box-datasets 2 --distill-box-max-prior 10 \
  --train-only regression_headers.0 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/L1-bn.onnx -o /work/main/runs/rfb-320-kd35 "$@"
# Result: in rfb-320-kd34/command.sh (both repeats).
