#!/bin/sh
# A/B probe: the RFB-640 weights (our own) back at 320 with stage 5's settings, 1 epoch, lr 0.005, heads only, no teacher (second 640 round).
# The start: ultraface export training-runs/rfb-640-kd2/last.ckpt --no-fold-bn --input-size 320 -o runs/rfb-640-kd2-bn-at320.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 1 --batch-size 24 --lr 0.005 --warmup 50 \
  --augment default --seed 13 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd2-bn-at320.onnx --freeze base_net+extras \
  -o /work/main/runs/rfb-320-x640b-heads-nt "$@"
