#!/bin/sh
# Upstream augmentation: photometric + mirror, no crop, no zoom-out.
exec "$(dirname "$0")/../probe.sh" up upstream "$@"
