#!/bin/sh
# training-runs/rfb-640-kd4/probe-wider-up's command (upstream augmentation, WIDER-1k x6, one epoch at lr 0.001 from
# rfb-640-kd4) with the seed as $1, the run name as $2, from /work/train-snap7 (main at 7b7335b). Into runs/p18/$2.
seed=$1; shift; name=$1; shift
cd /work/train-snap7
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 640 --epochs 1 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed $seed --validate-every 1 --checkpoint-every 20 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/rfb-640-kd4-bn.onnx -o /work/main/runs/p18/$name "$@"
