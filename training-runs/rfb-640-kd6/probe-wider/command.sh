#!/bin/sh
# Probe: RFB-640's WIDER-only gentle epoch (rfb-640-kd4/probe-wider) as the 640 half of the default's mean: one
# epoch at 640×480 on WIDER-1k alone (promoted ×6, lr 0.001, seed 18) from stage 12 (runs/rfb-320-kd11-bn.onnx).
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment default --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-320-kd11-bn.onnx -o /work/main/runs/p640-s12-wider "$@"
# Written before it finished: its 1:1 mean with rfb-320-kd11 at 320 replaces stage 12 only if it meets stage 12's
# rule (easy >= 0.781, medium >= 0.698, hard >= 0.40, 1/8/26/27.jpg >= 80 %) and finds at least stage 12's 130
# faces on 17 + 25.jpg; otherwise it is a finding for the next stage.
