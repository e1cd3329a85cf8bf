#!/bin/sh
# Session 18 diagnostics from upstream's RFB-320 weights (never kept nor shipped): probe-upstream-data.sh on WIDER-1k
# alone (promoted labels x10); for up-wider-cov only, /work/train-snap7 also held the throwaway IGNORE_COVER patch
# described in README.md. $1 = name, then extra options, e.g.
#   up-wider-bn --lr 1e-9
#   up-wider-ti --teacher $U/version-RFB-320.pth --distill 0,0 --teacher-ignore 0.3
name=$1; shift
exec sh "$(dirname "$0")/probe-upstream-data.sh" "$name" \
  --dataset voc:/work/main/runs/labels/widerface-train-1k-promoted:10 "$@"
