#!/bin/sh
# Default augmentation (the control).
exec "$(dirname "$0")/../probe.sh" base default "$@"
