#!/bin/sh
# Stage 13 of the default RFB-320: stage 9's recipe (12 epochs, no teacher, WIDER-1k at the 10 px floor) from
# stage 12 (training-runs/rfb-320-kd11/last.ckpt exported --no-fold-bn as runs/s12-bn.onnx), but with upstream's
# augmentation (photometric + mirror: no crop, no zoom-out), seed 21. Why: one-epoch probes from stage 12 at lr 0.001
# (runs/p13, seed 20): default augmentation 0.791/0.695/0.419, group 46/44/53/67/56/53; upstream augmentation
# 0.787/0.706/0.433, group 46/46/54/76/57/62.
# Ship rule, written before the run (with its gentle twin runs/rfb-320-kd13g.sh): ship this run if val-dev easy
# >= 0.781, medium >= 0.698, hard >= 0.40, 1/8/26/27.jpg stay at >= 80 % and 17 + 25.jpg together find more than
# stage 12's 130; if it fails, the twin under the same rule; if both pass, the one with more faces on 17 + 25.jpg.
cd /work/train-snap
exec nice -n -10 node --import tsx src/cli/main.ts train \
  --dataset voc:/work/main/runs/labels/faces-voc --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 12 --batch-size 24 --lr 0.005 --milestones 8,11 --warmup 50 \
  --augment upstream --seed 21 --validate-every 3 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/s12-bn.onnx -o /work/main/runs/rfb-320-kd13 "$@"
