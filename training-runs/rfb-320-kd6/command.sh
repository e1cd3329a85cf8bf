#!/bin/sh
# Stage 6 of the default RFB-320: the RFB-640 weights (our own: stage 3's RFB-320 fine-tuned at 640×480), back at
# 320×240 with stage 5's data and teacher, 12 epochs, lr 0.005 → 0.0005 (8) → 0.00005 (11). A one-epoch probe of
# this start beat stage 5's on the group photos (probe-x640/).
# The start: ultraface export training-runs/rfb-640-kd/last.ckpt --no-fold-bn --input-size 320 \
#   -o runs/rfb-640-kd-bn-at320.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 12 --batch-size 24 --lr 0.005 --milestones 8,11 --warmup 50 \
  --augment default --seed 14 --validate-every 3 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd-bn-at320.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 -o /work/main/runs/rfb-320-kd6 "$@"
