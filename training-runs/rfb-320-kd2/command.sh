#!/bin/sh
# Stage 2 of the default RFB-320: from stage 1 (runs/rfb-320-kd/last.ckpt, exported with BN unfolded),
# stronger class distillation and WIDER-1k weighted x6. Runs from the /work/train-snap snapshot.
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset ../shared/data/faces-voc --dataset wider:../shared/data/widerface-train-1k:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 16 --batch-size 24 --lr 0.005 --milestones 11,14 --warmup 200 \
  --augment default --seed 6 --validate-every 4 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd-bn.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.5 -o /work/main/runs/rfb-320-kd2 "$@"
