#!/bin/sh
# The first RFB-640 weights with the teacher, lr 0.0005.
# Start: ultraface export training-runs/rfb-640-kd/last.ckpt --no-fold-bn --input-size 320 -o runs/rfb-640-kd-bn-at320.onnx
exec "$(dirname "$0")/../probe.sh" x640lo /work/main/runs/rfb-640-kd-bn-at320.onnx 0.0005 20 --teacher "$@"
