#!/bin/sh
# Session 23: only the box head of the smallest faces learns (new here: --train-only regression_headers.0), from
# stage 19 (the layer mix L1), 2 epochs at lr 0.002, seed 38, the teacher's box term ×16 at the 10 px priors on WIDER-1k
# only, positives included (rfb-320-kd20's box settings). Why: of the 28 faces of 25.jpg that stage 19 misses at 0.7,
# 16 are "misplaced" (IoU 0.3-0.5 with upstream's box); every run that trained the classifier too moved the count by
# 3-5 faces either way (rfb-320-kd26 to -kd31). With every other layer and all BatchNorm statistics held, the scores,
# and so faces-voc's ranking, stay stage 19's; only where the smallest priors put their boxes can change. The class
# term reaches no trained layer here. Side by side with rfb-320-kd32 (box term ×4).
# The start: runs/L1-bn.onnx (rfb-320-kd26/command.sh), the default as an unfolded export.
# Ship rule, written before the run: each epoch of this run and of rfb-320-kd32 is a candidate: val-dev (ulfd) easy
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
  --augment upstream --seed 38 --teacher $U/version-RFB-320.pth --distill 1,16 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-box-datasets 2 --distill-box-max-prior 10 \
  --train-only regression_headers.0 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/L1-bn.onnx -o /work/main/runs/rfb-320-kd33 "$@"
# Result (session 23; 810 steps, 21 min with validation, side by side with rfb-320-kd32): epochs 1 / 2 0.797 / 0.706 /
# 0.416, 0.789 / 0.696 / 0.409 (faces-voc 0.644, 0.642); group photos 46/50/66/110/58/69, 46/50/65/102/58/69
# (group-photos.txt). kd32 (×4): 0.797 / 0.706 / 0.414, 0.794 / 0.690 / 0.403 (faces-voc 0.648, 0.636);
# 46/50/66/108/58/69, 46/50/65/104/58/69. The scores are stage 19's (ours 162 on 25.jpg in every epoch): the count
# moves with where the boxes land alone, 102-110, and the mean IoU with upstream's small boxes stays 0.668-0.673
# (scripts/box-offsets.ts; stage 19 0.672). On the mirrored photo (--mirror) stage 19 and both first epochs find 104;
# --stable 90, 92, 92 of 102. Under the rule above the first epoch of this run (110) passes and would replace the
# default. Held out: original protocol 0.754 / 0.764 / 0.625 (stage 19 0.754 / 0.763 / 0.629), WIDER-mini 0.648 /
# 0.554 / 0.390 (stage 19 0.664 / 0.569 / 0.405): the teacher's box style at the 10 px priors costs the human boxes
# of mini 0.015.
# Rule for three box-head soups, written after the above and before measuring them: the smallest level's box head
# as the mean of (a) this run's first epoch and stage 19 (`ultraface average runs/rfb-320-kd33/epoch-1.ckpt
# runs/L1-bn.onnx`; every other weight is the same in both), (b) the first epochs of kd32 and kd33, (c) all four
# epochs of kd32 and kd33, are candidates under the rule above plus WIDER-mini each at least stage 19's − 0.010
# (0.654 / 0.559 / 0.395); of those that pass, the one with the most of 25.jpg's faces (then the higher easy + medium
# + hard) replaces the default. If none passes, this run's first epoch does, under the rule it passed.
# The soups: (a) 0.794 / 0.707 / 0.419, faces-voc 0.646, group 46/50/66/110/58/69, WIDER-mini 0.654 / 0.565 / 0.400,
# original 0.755 / 0.765 / 0.628; (b) 0.798 / 0.709 / 0.419, 0.647, 46/50/66/109/58/69, mini 0.655 / 0.559 / 0.394
# (hard under 0.395); (c) 0.796 / 0.703 / 0.415, 0.644, 46/50/66/107/58/69, mini 0.648 / 0.548 / 0.390. (a) passes
# and is stage 20, the default: `ultraface average training-runs/rfb-320-kd33/epoch-1.ckpt
# training-runs/rfb-320-kd20/epoch-2.ckpt training-runs/rfb-320-kd18/last.ckpt --weights 0,1,1 --part
# base_net.7=0,1,0 --part classification_headers.0=0,1,0 --part regression_headers.0=1,1,0 --input-size 320 --out
# models/ultraface-rfb-320.onnx` (stage 19 with its first-level box head averaged 1:1 with this run's first epoch's;
# this run's epoch-1.ckpt is committed).
