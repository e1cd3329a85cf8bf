#!/bin/sh
# The teacher also at priors near annotated faces (only their positives left out).
exec "$(dirname "$0")/../probe.sh" distall --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 4,1 --teacher-ignore 0.3 "$@"
