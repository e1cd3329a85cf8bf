#!/bin/sh
# No teacher (stage 7's first epoch).
exec "$(dirname "$0")/../probe.sh" nt  "$@"
