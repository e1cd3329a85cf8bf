#!/bin/sh
# probe d1wp (training-runs/rfb-320-kd15/probe.sh), from the repository root
L=/work/main/runs/labels
D="--dataset voc:$L/faces-voc --dataset voc:$L/widerface-train-1k-promoted:6"
T=/work/shared/reference/upstream/models/pretrained/version-RFB-320.pth
exec training-runs/rfb-320-kd15/probe.sh d1wp $D --teacher $T --distill 1,1 --distill-datasets 2 --distill-positive-boxes
