#!/bin/sh
# Session 22: rfb-320-kd28 with base_net.5 and base_net.6 trained too (the two blocks before the path of the smallest
# faces; as layer mixes, taken from kd20 they add two of 25.jpg's faces and cost faces-voc 0.015-0.02:
# rfb-320-kd26/layer-mixes.md, L5, L12), side by side with it; the same seed. Rule: rfb-320-kd28/command.sh.
U=/work/shared/reference/upstream/models/pretrained
L=/work/main/runs/labels
cd /work/train-snap12
exec nice -n -5 node --import tsx src/cli/main.ts train \
  --dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6 \
  --val-dataset ../shared/data/faces-voc --val-wider ../shared/data/widerface-val-dev \
  --net RFB --input-size 320 --epochs 2 --batch-size 24 --lr 0.001 --warmup 50 \
  --augment upstream --seed 34 --teacher $U/version-RFB-320.pth --distill 1,4 --teacher-ignore 0.03 \
  --distill-positive-boxes --distill-box-datasets 2 --distill-box-max-prior 10 \
  --train-only base_net.5,base_net.6,base_net.7,classification_headers.0,regression_headers.0 \
  --validate-every 1 --keep-validated --checkpoint-every 50 --workers 1 --threads 2 --shards 2 \
  --init /work/main/runs/L1-bn.onnx -o /work/main/runs/rfb-320-kd29 "$@"
# Result: rfb-320-kd28/command.sh (epochs 1 / 2: 25.jpg 102, 97; faces-voc 0.631, 0.625): not shipped.
