#!/usr/bin/env bash
# Configures (once) and builds a build folder: scripts/build.sh [DIR [MESON-OPTIONS...]]
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
