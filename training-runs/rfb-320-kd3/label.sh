#!/bin/sh
# Teacher labels (issue #15 point 3): upstream RFB-640 at 640x480 and 1280x960, with flips, over the training data.
cd /work/main
T=../shared/reference/upstream/models/pretrained/version-RFB-640.pth
node --import tsx src/cli/main.ts label --dataset wider:../shared/data/widerface-train-1k --teacher $T --sizes 640,1280 --threads 2 -o runs/labels/widerface-train-1k
node --import tsx src/cli/main.ts label --dataset ../shared/data/faces-voc --split trainval --teacher $T --sizes 640,1280 --threads 2 -o runs/labels/faces-voc
# WIDER-1k with human ignore regions the teacher is sure of made faces (for the next stage):
# node --import tsx src/cli/main.ts label --dataset wider:../shared/data/widerface-train-1k --teacher $T --sizes 640,1280 --threads 2 --promote-ignored -o runs/labels/widerface-train-1k-promoted
