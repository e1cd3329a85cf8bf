#!/bin/sh
# Issue #15's ablation rows, one after another (~12–15 min each alone on 2 cores), into runs/ablation/<row>:
#   ignore:  + WIDER-1k read directly (faces under 10 px and `invalid` ones become ignore regions)
#   mosaic:  the same + the 2x2 mosaic (a quarter of the samples)
#   wider:   + WIDER-1k as upstream trains on it (those faces dropped, i.e. taught as background)
#   distill: ignore + distillation from upstream's RFB-320 weights (stage 3's settings)
#   labels:  ignore + teacher-completed labels (runs/labels, made by training-runs/rfb-320-kd3/label.sh)
# A row whose run has validated is skipped, so the script can be rerun after a stop; a stopped row starts over.
set -e
cd /work/main
mkdir -p runs/ablation
F=../shared/data/faces-voc
W=/work/main/runs/ablation/wider-1k-voc
TEACHER=../shared/reference/upstream/models/pretrained/version-RFB-320.pth
[ -f runs/rfb-320-bn.onnx ] || node --import tsx src/cli/main.ts export training-runs/rfb-320/last.ckpt --no-fold-bn \
  --out runs/rfb-320-bn.onnx
[ -d $W ] || node --import tsx src/cli/main.ts convert-widerface \
  --images ../shared/data/widerface-train-1k/WIDER_train/images \
  --annotations ../shared/data/widerface-train-1k/wider_face_split/wider_face_train_bbx_gt.txt -o $W
for row in "ignore $F wider:../shared/data/widerface-train-1k:3" \
  "mosaic $F wider:../shared/data/widerface-train-1k:3 --augment /work/main/training-runs/ablation/mosaic.json" \
  "wider $F voc:$W:3" \
  "distill $F wider:../shared/data/widerface-train-1k:3 --teacher $TEACHER --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3" \
  "labels voc:/work/main/runs/labels/faces-voc voc:/work/main/runs/labels/widerface-train-1k:3"; do
  set -- $row
  if [ -f runs/ablation/$1/history.json ] && grep -q '"AP50"' runs/ablation/$1/history.json; then continue; fi
  rm -rf runs/ablation/$1
  /usr/bin/time -f "$1 wall %e s" training-runs/ablation/run.sh "$@" > runs/ablation/$1.out 2>&1
done
