#!/bin/sh
# Stage 3 of the default RFB-320: from stage 2 (runs/rfb-320-kd2/last.ckpt, step 2546, exported with BN unfolded),
# on teacher-completed labels (runs/labels: upstream RFB-640 at 640x480 and 1280x960 with flips, `ultraface label`),
# distillation from upstream RFB-320 kept away from annotated faces (--distill-annotated 0.3).
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 10 --batch-size 24 --lr 0.005 --milestones 7,9 --warmup 200 \
  --augment default --seed 7 --validate-every 4 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd2-bn.onnx --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth \
  --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 -o /work/main/runs/rfb-320-kd3 "$@"
