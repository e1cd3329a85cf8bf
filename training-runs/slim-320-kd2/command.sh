#!/bin/sh
# slim-320, stage 2: the default RFB-320's stage recipe (no teacher; promoted WIDER-1k ×6; lr 0.005) cut to 9 epochs,
# from the slim 640 round (training-runs/slim-640-probe) exported at 320 with BN unfolded:
#   ultraface export runs/slim-640-probe/last.ckpt --input-size 320 --no-fold-bn --out runs/slim-640-probe-bn.onnx
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net slim --input-size 320 --epochs 9 --batch-size 24 --lr 0.005 --milestones 6,8 --warmup 50 \
  --augment default --seed 21 --validate-every 3 --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/slim-640-probe-bn.onnx -o /work/main/runs/slim-320-kd2 "$@"
# Ship rule, written before the run finished: of this run and its 1:1 mean with slim-640-probe (its start) at 320,
# ship the one with the higher val-dev easy + medium + hard if it beats the shipped slim-320 (0.737 / 0.605 / 0.333)
# on all three and keeps faces-voc AP50 >= 0.564 (the shipped 0.584 less 0.02).
