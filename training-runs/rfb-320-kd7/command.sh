#!/bin/sh
# Stage 7 with stage 6's teacher, from the mean of stage 6 and its 640 round; stopped at step 1228 for the
# one-epoch probes (rfb-320-kd8/probe-*) and replaced by rfb-320-kd8 (no teacher). Its state is not kept.
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 12 --batch-size 24 --lr 0.005 --milestones 8,11 --warmup 50 \
  --augment default --seed 14 --validate-every 3 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/soup-a50-bn.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 -o /work/main/runs/rfb-320-kd7 "$@"
