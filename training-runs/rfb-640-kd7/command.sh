#!/bin/sh
# The RFB-640 recipe (rfb-640-kd4's first round) from stage 17's RFB-320 (rfb-320-kd18), session 19.
# The start: ultraface export training-runs/rfb-320-kd18/last.ckpt --no-fold-bn --out runs/s17-bn.onnx
# Then the WIDER-only epoch (wider/command.sh) gives the RFB-640 candidate.
cd /work/train-snap7
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:2 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 3 --batch-size 24 --lr 0.005 --milestones 2 --warmup 50 \
  --augment default --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s17-bn.onnx -o /work/main/runs/rfb-640-kd7 "$@"
