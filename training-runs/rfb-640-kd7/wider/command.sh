#!/bin/sh
# rfb-640-kd7's second step, rfb-640-kd4/probe-wider-up's recipe (the shipped RFB-640's last epoch): one gentle epoch
# at 640x480 (lr 0.001, seed 18, upstream augmentation) on WIDER-1k alone (promoted labels x6) from ../command.sh's run.
#   ultraface export runs/rfb-640-kd7/last.ckpt --no-fold-bn --out runs/rfb-640-kd7-bn.onnx
cd /work/train-snap7
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 18 --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd7-bn.onnx -o /work/main/runs/rfb-640-kd7-wider "$@"
