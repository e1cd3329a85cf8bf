#!/bin/sh
# probe-wider with upstream augmentation (photometric + mirror: no crop, no zoom-out), all else the same: does the
# augmentation that lifted RFB-320 stage 13 (training-runs/rfb-320-kd13) also close RFB-640's easy gap? One
# gentle epoch at 640×480 (lr 0.001, seed 18) from rfb-640-kd4 on WIDER-1k alone (promoted labels ×6).
#   ultraface export training-runs/rfb-640-kd4/last.ckpt --no-fold-bn --out runs/rfb-640-kd4-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd4-bn.onnx -o /work/main/runs/p640-wider-up "$@"
