#!/bin/sh
# Stage 6's teacher settings (stage 7 with the teacher: its first epoch is rfb-320-kd7's).
exec "$(dirname "$0")/../probe.sh" base --teacher ../shared/reference/upstream/models/pretrained/version-RFB-320.pth --distill 4,1 --teacher-ignore 0.3 --distill-annotated 0.3 "$@"
