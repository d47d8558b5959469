#!/usr/bin/env bash
# Installs a configured build into STAGE (meson install --destdir) and writes
# STAGE/pkgconfig/streamline.pc with its prefix moved under STAGE, so that
# `PKG_CONFIG_PATH=STAGE/pkgconfig pkg-config --cflags --libs streamline`
# builds a plugin against that install, as an author's machine would.
# Prints the pkgconfig folder. Usage: scripts/stage-sdk.sh BUILD STAGE
set -euo pipefail
. "$(dirname "$0")/usage.sh"
usage_if_asked "$@"
build=$1
stage=$(realpath -m "$2")
rm -rf "$stage"
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet
pc=$(find "$stage" -name streamline.pc | head -1)
[ -n "$pc" ] || { echo "stage-sdk: no streamline.pc under $stage" >&2; exit 1; }
mkdir -p "$stage/pkgconfig"
sed "s|^prefix=|prefix=$stage|" "$pc" > "$stage/pkgconfig/streamline.pc"
echo "$stage/pkgconfig"
