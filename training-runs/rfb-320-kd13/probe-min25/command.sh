#!/bin/sh
# Default augmentation, faces under 2.5 px at the input after the zoom-out made ignore regions.
exec "$(dirname "$0")/../probe.sh" min25 "$(dirname "$0")/../min25.json" "$@"
