#!/bin/sh
# Stage 10 of the default RFB-320: stage 9 (rfb-320-kd9) again — same start (stage 8), recipe and seed — on
# WIDER-1k labels made with upstream's minimum face size at this copy's scale (--wider-min-face 7.8; probe.sh).
# The labels: ultraface label --dataset wider:../shared/data/widerface-train-1k --wider-min-face 7.8 \
#   --teacher version-RFB-640.pth --sizes 640,1280 --threads 2 --promote-ignored -o runs/labels/widerface-train-1k-promoted-m78
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted-m78:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 12 --batch-size 24 --lr 0.005 --milestones 8,11 --warmup 50 \
  --augment default --seed 17 --validate-every 3 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/soup-k8-bn.onnx -o /work/main/runs/rfb-320-kd10 "$@"
