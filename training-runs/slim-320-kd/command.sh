#!/bin/sh
# slim-320 on WIDER (issue #15): from the shipped slim-320 (training-runs/slim-320-long, exported with BN unfolded to
# runs/slim-320-bn.onnx), on the teacher-completed labels (faces-voc + promoted WIDER-1k ×6), distilled from upstream's
# RFB-320 weights (the same 4,420 priors at 320×240; stronger than upstream's slim-320 on medium and hard).
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 18 --batch-size 24 --lr 0.01 --milestones 13,16 --warmup 300 \
  --augment default --seed 13 --validate-every 6 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-320-bn.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 -o /work/main/runs/slim-320-kd "$@"
