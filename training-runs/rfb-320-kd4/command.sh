#!/bin/sh
# Stage 4 of the default RFB-320: from stage 3 (runs/rfb-320-kd3/last.ckpt, exported with BN unfolded), with WIDER-1k
# ignore regions a confident teacher covers made faces (label --promote-ignored); otherwise as stage 3.
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 10 --batch-size 24 --lr 0.005 --milestones 7,9 --warmup 200 \
  --augment default --seed 8 --validate-every 4 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd3-bn.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 -o /work/main/runs/rfb-320-kd4 "$@"
