#!/bin/sh
# probe-wider-up (one gentle epoch at 640×480 on WIDER-1k alone, upstream's augmentation, lr 0.001, seed 18, from
# rfb-640-kd4) with priors matched at IoU 0.2 (--match-iou 0.2). Why: the RFB-320 probe with it
# (training-runs/rfb-320-kd15/probe-m20) gained easy 0.030 and medium 0.042 over its control in one epoch.
#   ultraface export training-runs/rfb-640-kd4/last.ckpt --no-fold-bn --out runs/rfb-640-kd4-bn.onnx
# Ship rule, written before the run: ship as RFB-640 if val-dev easy >= 0.844, medium >= 0.738, hard >= 0.282 and
# medium and hard stay within 0.01 of the shipped RFB-640's 0.838 / 0.663.
cd /work/train-snap3
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 --match-iou 0.2 \
  --augment upstream --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd4-bn.onnx -o /work/main/runs/p640-wider-m20 "$@"
