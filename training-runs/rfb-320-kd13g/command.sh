#!/bin/sh
# Stage 13's gentle twin: 4 epochs at lr 0.001 (x0.1 at epoch 3) from stage 12 with upstream's augmentation, seed 22.
# Ship rule: runs/rfb-320-kd13.sh.
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 4 --batch-size 24 --lr 0.001 --milestones 3 --warmup 50 \
  --augment upstream --seed 22 --validate-every 1 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s12-bn.onnx -o /work/main/runs/rfb-320-kd13g "$@"
