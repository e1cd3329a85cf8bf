#!/bin/sh
# The second RFB-640 weights (rfb-640-kd2), heads only, with the teacher, lr 0.005.
# Start: ultraface export training-runs/rfb-640-kd2/last.ckpt --no-fold-bn --input-size 320 -o runs/rfb-640-kd2-bn-at320.onnx
exec "$(dirname "$0")/../probe.sh" x640b-heads /work/main/runs/rfb-640-kd2-bn-at320.onnx 0.005 50 --teacher --freeze base_net+extras "$@"
