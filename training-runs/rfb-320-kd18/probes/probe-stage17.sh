#!/bin/sh
# Session 18 one-epoch student probes from stage 17 (runs/s17-bn.onnx = `ultraface export
# training-runs/rfb-320-kd18/last.ckpt --no-fold-bn`): probe-stage13.sh's recipe from that start. $1 = name, then
# extra options, e.g.
#   s17-ti03 --teacher $U/version-RFB-320.pth --distill 1,0 --teacher-ignore 0.03
INIT=/work/main/runs/s17-bn.onnx exec sh "$(dirname "$0")/probe-stage13.sh" "$@"
