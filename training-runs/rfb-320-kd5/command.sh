#!/bin/sh
# Stage 5 of the default RFB-320: stage 4 (promoted WIDER-1k labels) continued on a longer schedule: from
# runs/rfb-320-kd4/last.ckpt (step 1471, exported with BN unfolded), 18 epochs, lr 0.005 → 0.0005 (12) → 0.00005 (16).
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 18 --batch-size 24 --lr 0.005 --milestones 12,16 --warmup 100 \
  --augment default --seed 9 --validate-every 4 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd4-bn.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 -o /work/main/runs/rfb-320-kd5 "$@"
